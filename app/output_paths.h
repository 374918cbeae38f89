#pragma once
// The one check of the files a command writes (--save, --checkpoint, --curves, --log, a
// reproduce run's curves), made before it reads data, trains or opens any of them, so that no
// run destroys what the user owns and none fails at its end for a reason known at its start:
//
//   - each output is a file or not there yet: not a folder, FIFO, device or socket;
//   - its folder exists and takes a new file (probed with a real temporary file, removed);
//   - its name leaves room for the save's temporary suffix (.tmp.PID) under the folder's NAME_MAX;
//   - it is none of the files the run reads (the data file, the files of a data folder, a
//     FORMAT:PATH's file, the default data set, a test-split file, a resume checkpoint), and no
//     two outputs are one file.
//
// Files are compared by identity (device and inode; for a file not there yet, its resolved
// folder and name), after following symbolic links, which a save writes through (the target is
// written and the link kept, core/atomic_file.h).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace curec::app {

// A path a command line names, with the flag that names it.
struct NamedPath {
  std::string flag, path;
  // An output only: the input flag it may name (a checkpoint continues in the file it resumed from).
  std::string may_be = "";
};

// The files and folders a data spec reads: its file, or a folder and every entry in it; both
// readings of a spec (ratings and CTR) and "" as the default data sets. None for "synthetic".
std::vector<NamedPath> data_inputs(const std::string& flag, const std::string& spec);
// The file a --split spec reads (test:FILE), if any.
std::vector<NamedPath> split_inputs(const std::string& spec);

// Every check above; throws a curec::Error naming the flag, the path and what to do. Outputs
// with an empty path are flags not given (an empty value is refused by non_empty_path()).
void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

// For a flag naming a file or folder: an empty value is a usage error, not "the default".
CLI::Validator non_empty_path();

}  // namespace curec::app
