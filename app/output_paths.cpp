#include "app/output_paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "app/ctr_source.h"
#include "app/ratings_source.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace curec::app {
namespace fs = std::filesystem;

namespace {

// Which file a path is: device and inode when it exists, else (after following links) its
// resolved folder and name, which is what two paths to one file not yet written share.
struct Identity {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string where;
};

Identity identity_of(const std::string& path) {
  Identity id;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    return id;
  }
  const fs::path target(link_target(path));
  std::error_code ec;
  const fs::path folder = fs::weakly_canonical(target.has_parent_path() ? target.parent_path() : fs::path("."), ec);
  id.where = (folder / target.filename()).string();
  return id;
}

bool same_file(const Identity& a, const Identity& b) {
  if (a.exists != b.exists) return false;
  return a.exists ? a.dev == b.dev && a.ino == b.ino : a.where == b.where;
}

fs::path folder_of(const fs::path& file) { return file.has_parent_path() ? file.parent_path() : fs::path("."); }

// The output's own checks: what it is, its folder, its name's length.
void check_kind_and_place(const NamedPath& out) {
  const std::string shown = out.flag + " " + out.path;
  const fs::path target(link_target(out.path));
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    CUREC_CHECK(!S_ISDIR(st.st_mode), shown, " is a folder; name a file in it");
    CUREC_CHECK(S_ISREG(st.st_mode), shown,
                " is not a regular file (a device, FIFO or socket); writing it would replace it or wait on it: "
                "name a file");
  }
  const fs::path folder = folder_of(target);
  std::error_code ec;
  CUREC_CHECK(fs::is_directory(folder, ec), shown, ": the folder ", folder.string(),
              " does not exist; create it first (checked before training, so no run is lost)");
  long name_max = ::pathconf(folder.c_str(), _PC_NAME_MAX);
  if (name_max <= 0) name_max = NAME_MAX;
  const size_t name = target.filename().string().size(), temp = name + temp_suffix().size();
  CUREC_CHECK(temp <= static_cast<size_t>(name_max), shown, ": its name is ", name,
              " bytes, and a save first writes NAME", temp_suffix(), " (", temp, " bytes), over the folder's limit of ",
              name_max, "; use a name of at most ", name_max - static_cast<long>(temp_suffix().size()), " bytes");
}

// A real file created and removed in the output's folder: permissions, a read-only file system,
// a quota or an ACL all show here, as root too.
void probe_folder(const NamedPath& out) {
  const fs::path folder = folder_of(fs::path(link_target(out.path)));
  std::string name = (folder / ".curec-probe-XXXXXX").string();
  const int fd = ::mkstemp(name.data());
  CUREC_CHECK(fd >= 0, out.flag, " ", out.path, ": cannot create a file in the folder ", folder.string(), " (",
              std::strerror(errno), "); choose a folder the run can write (checked before training, so no run is lost)");
  ::close(fd);
  ::unlink(name.c_str());
}

void add_path_and_entries(std::vector<NamedPath>& out, const std::string& flag, const std::string& path) {
  if (path.empty()) return;
  out.push_back({flag, path});
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    out.push_back({flag, it->path().string()});
}

}  // namespace

std::vector<NamedPath> data_inputs(const std::string& flag, const std::string& spec) {
  std::vector<NamedPath> out;
  add_path_and_entries(out, flag, ratings_path(spec));
  add_path_and_entries(out, flag, ctr_path(spec.empty() ? "criteo" : spec));  // the CTR recipes' default
  return out;
}

std::vector<NamedPath> split_inputs(const std::string& spec) {
  const std::string prefix = "test:";
  if (spec.rfind(prefix, 0) != 0 || spec.size() == prefix.size()) return {};
  return {{"--split", ratings_path(spec.substr(prefix.size()))}};
}

void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  std::vector<NamedPath> outs;
  for (const NamedPath& o : outputs)
    if (!o.path.empty()) outs.push_back(o);
  for (const NamedPath& o : outs) check_kind_and_place(o);

  std::vector<Identity> ids;
  for (const NamedPath& o : outs) ids.push_back(identity_of(o.path));
  for (const NamedPath& in : inputs) {
    if (in.path.empty()) continue;
    const Identity id = identity_of(in.path);
    if (!id.exists) continue;  // nothing there to destroy; reading it will fail by name
    for (size_t k = 0; k < outs.size(); ++k)
      CUREC_CHECK(outs[k].may_be == in.flag || !same_file(ids[k], id), outs[k].flag, " ", outs[k].path, " is ",
                  in.flag == "--data" ? "the data the run reads" : "a file the run reads", " (", in.flag, " ", in.path,
                  "); writing it would destroy it: name another file");
  }
  for (size_t a = 0; a < outs.size(); ++a)
    for (size_t b = a + 1; b < outs.size(); ++b)
      CUREC_CHECK(!same_file(ids[a], ids[b]), outs[a].flag, " ", outs[a].path, " and ", outs[b].flag, " ",
                  outs[b].path, " name one file, and one would overwrite the other: give each its own file");
  for (const NamedPath& o : outs) probe_folder(o);
}

CLI::Validator non_empty_path() {
  return CLI::Validator(
      [](std::string& value) {
        return value.empty() ? std::string("an empty value names no file; name one, or leave the flag out")
                             : std::string();
      },
      "");
}

}  // namespace curec::app
