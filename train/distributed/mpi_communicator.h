#pragma once
// The MPI backend: one process per rank (mpirun -np N), CPU tensors.
//
// MPI is initialised on first use (MPI_Init_thread, unless the program did it) and finalised at
// exit. Collectives are MPI's non-blocking ones (MPI_Iallreduce's kin), polled with MPI_Test, so
// a rank that never arrives makes the others fail after the timeout with a clear error; the
// communicator is then broken, and the process calls MPI_Abort at exit instead of MPI_Finalize
// (which would wait for the missing rank), so mpirun ends every rank.
//
// Sums are in rank order, bit for bit the thread backend's, and every call is checked
// (communicator.h): ranks that disagree fail on every rank instead of MPI truncating or hanging.
// In a build without MPI, make_mpi_communicator fails, saying how to install it.
#include <memory>

#include "train/distributed/communicator.h"

namespace curec::dist {

// Whether this build has the MPI backend (CMake found MPI).
bool mpi_built();
// A communicator over all the processes mpirun started (a duplicate of MPI_COMM_WORLD): its
// rank and world size are MPI's. Collective: every process must call it. When the environment
// names a launch (launch.h) whose world size differs from MPI's, that is an error.
std::unique_ptr<Communicator> make_mpi_communicator(double timeout_s = default_timeout_s());

}  // namespace curec::dist
