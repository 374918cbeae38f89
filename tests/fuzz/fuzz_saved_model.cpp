// Saved-model files (`curec predict|recommend|evaluate --model FILE`): a file the loader accepts
// scores pairs and every item of a user with outputs of the right shapes, or refuses with an
// Error. AutoRec and Caser files are skipped: they read their training data from the path the
// file records, which is the ratings readers' and split harnesses' ground. Each input is tried
// as is and with its checksum repaired.
#include <string>

#include "app/saved_model.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/state_bytes.h"

using namespace curec;

namespace {

void check(fuzz::InputFile& file, const std::string& bytes) {
  const std::string& path = file.write(bytes);
  nn::LoadedState st;
  if (!fuzz::accepts([&] { st = nn::load_state(path); })) return;
  auto kind = st.meta.find("model");
  if (kind != st.meta.end() && (kind->second == "autorec" || kind->second == "caser")) return;
  app::SavedModel m;
  if (!fuzz::accepts([&] { m = app::load_saved_model(path); })) return;
  const auto users = static_cast<int64_t>(m.user_ids.size()), items = static_cast<int64_t>(m.item_ids.size());
  fuzz::require(users > 0 && items > 0, "an accepted model has users and items");
  fuzz::require(m.dense_user(m.user_ids.back()) == users - 1 && m.dense_item(m.item_ids.front()) == 0,
                "raw ids map to their dense places");
  const Tensor u = Tensor::from_vector(std::vector<int32_t>{0, static_cast<int32_t>(users - 1)}, {2});
  const Tensor i = Tensor::from_vector(std::vector<int32_t>{static_cast<int32_t>(items - 1), 0}, {2});
  Tensor pairs, all;
  fuzz::require(fuzz::accepts([&] {
                  pairs = m.score(u, i);
                  if (items <= 4096) all = m.score_all_items(u);
                }),
                "an accepted model scores");
  fuzz::require(pairs.shape() == Shape{2}, "one score per pair");
  if (items <= 4096) fuzz::require(all.shape() == (Shape{2, items}), "a score per item");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static fuzz::InputFile file("saved-model");
  const std::string in(reinterpret_cast<const char*>(bytes), size);
  check(file, in);
  if (size >= 8) check(file, fuzz::with_checksum(in));
  return 0;
}
