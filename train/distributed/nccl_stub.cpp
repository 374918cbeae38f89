// Stands in for nccl_communicator.cu in a build without CUDA: every entry point says so.
#include "train/distributed/nccl_communicator.h"

#if !CUREC_WITH_CUDA
namespace curec::dist {

namespace {
[[noreturn]] void no_nccl(const char* what) {
  CUREC_FAIL(what, ": curec was built without CUDA, so without the NCCL backend; GPU training needs a CUDA build "
                   "(install the CUDA toolkit and NCCL, configure with -DCUREC_CUDA=ON), or train on the CPU "
                   "(on CPU devices, over threads or MPI)");
}
}  // namespace

bool nccl_built() { return false; }
NcclUniqueId nccl_unique_id() { no_nccl("nccl_unique_id"); }
std::vector<std::unique_ptr<Communicator>> nccl_init_all(const std::vector<int>&, NcclOptions) {
  no_nccl("nccl_init_all");
}
std::unique_ptr<Communicator> nccl_init_rank(const NcclUniqueId&, int, int, int, NcclOptions) {
  no_nccl("nccl_init_rank");
}

}  // namespace curec::dist
#endif
