#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "data/ctr.h"
#include "data/synthetic_ctr.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / detail::concat("curec_test_ctr_", getpid(), "_", name))
      .string();
}

std::string write_file(const std::string& name, const std::string& text) {
  std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// A d2l-format row: label, then 34 fields; field 0 takes `a`, field 1 takes `b`, the rest "c<j>".
std::string d2l_row(int label, const std::string& a, const std::string& b) {
  std::string s = detail::concat(label, "\t", a, "\t", b);
  for (int j = 2; j < 34; ++j) s += detail::concat("\tc", j);
  return s + "\n";
}

// An independent count of the values a field keeps: split lines by hand, count, threshold.
std::vector<int64_t> expected_dims(const std::string& path, char sep, bool header, const std::vector<int>& columns,
                                   int64_t min_count, bool criteo) {
  std::ifstream in(path);
  std::string line;
  if (header) std::getline(in, line);
  std::vector<std::map<std::string, int64_t>> counts(columns.size());
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, sep)) cols.push_back(c);
    if (!line.empty() && line.back() == sep) cols.push_back("");
    for (size_t f = 0; f < columns.size(); ++f) {
      std::string v = cols[columns[f]];
      if (criteo && columns[f] >= 1 && columns[f] <= 13) REQUIRE(criteo_bucket(v, v));
      ++counts[f][v];
    }
  }
  std::vector<int64_t> dims;
  for (const auto& m : counts) {
    int64_t kept = 0;
    for (const auto& [v, n] : m) kept += n >= min_count;
    dims.push_back(kept + 1);
  }
  return dims;
}

int64_t clicks(const CtrData& d) {
  return static_cast<int64_t>(std::count(d.labels.begin(), d.labels.end(), 1.0f));
}

void check_consistent(const CtrData& d) {
  REQUIRE(d.fields.size() == static_cast<size_t>(d.rows() * d.num_fields()));
  for (int64_t r = 0; r < d.rows(); ++r)
    for (int64_t f = 0; f < d.num_fields(); ++f) {
      int32_t x = d.fields[r * d.num_fields() + f];
      REQUIRE(x >= d.offsets[f]);
      REQUIRE(x < d.offsets[f] + d.field_dims[f]);
    }
}

}  // namespace

TEST_CASE("criteo integer buckets: v > 2 ? floor(ln(v)^2) : v, missing is its own bucket") {
  std::string k;
  CHECK(criteo_bucket("1382", k));
  CHECK(k == "52");  // ln(1382)^2 = 52.29
  CHECK(criteo_bucket("5", k));
  CHECK(k == "2");  // ln(5)^2 = 2.59
  CHECK(criteo_bucket("2", k));
  CHECK(k == "2");
  CHECK(criteo_bucket("-1", k));
  CHECK(k == "-1");
  CHECK(criteo_bucket("", k));
  CHECK(k.empty());
  CHECK_FALSE(criteo_bucket("4.5", k));
  CHECK_FALSE(criteo_bucket("x", k));
}

TEST_CASE("the book's format: min-count threshold, default index, offsets") {
  // Field 0: "a" x5, "b" x4, "c" x3, "d" x1; field 1: "p" x13 (every row).
  std::string text;
  for (int i = 0; i < 5; ++i) text += d2l_row(i % 2, "a", "p");
  for (int i = 0; i < 4; ++i) text += d2l_row(1, "b", "p");
  for (int i = 0; i < 3; ++i) text += d2l_row(0, "c", "p");
  text += d2l_row(0, "d", "p");
  std::string path = write_file("book.txt", text);
  CtrEncoder e = CtrEncoder::fit(path, CtrFormat::d2l, 4);
  REQUIRE(e.num_fields() == 34);
  CHECK(e.kept_values(0) == std::vector<std::string>{"a", "b"});  // first-appearance order
  CHECK(e.field_dims()[0] == 3);
  CHECK(e.field_dims()[1] == 2);
  CHECK(e.field_dims()[2] == 2);
  CHECK(e.local_index(0, "a") == 0);
  CHECK(e.local_index(0, "b") == 1);
  CHECK(e.local_index(0, "c") == 2);  // below the threshold: the default
  CHECK(e.local_index(0, "never seen") == 2);
  CtrData d = e.encode(path);
  CHECK(d.rows() == 13);
  CHECK(clicks(d) == 6);
  CHECK(d.offsets[0] == 0);
  CHECK(d.offsets[1] == 3);
  CHECK(d.offsets[2] == 5);
  CHECK(d.num_features() == 3 + 33 * 2);
  CHECK(d.fields[0] == 0);             // row 0 field 0 "a"
  CHECK(d.fields[1] == 3);             // row 0 field 1 "p"
  CHECK(d.fields[5 * 34] == 1);        // row 5 "b"
  CHECK(d.fields[9 * 34] == 2);        // row 9 "c" -> default
  CHECK(d.fields[12 * 34] == 2);       // row 12 "d" -> default
  check_consistent(d);
  CHECK(d.fields_tensor().shape() == Shape{13, 34});
  // min_count 1 keeps everything.
  CHECK(CtrEncoder::fit(path, CtrFormat::d2l, 1).field_dims()[0] == 5);
  // A test file reuses the maps: unseen values go to the default.
  std::string test = write_file("book_test.txt", d2l_row(1, "b", "zzz") + d2l_row(0, "new", "p"));
  CtrData t = e.encode(test);
  CHECK(t.field_dims == d.field_dims);
  CHECK(t.fields[0] == 1);
  CHECK(t.fields[1] == 3 + 1);  // "zzz": field 1's default
  CHECK(t.fields[34] == 2);
  std::filesystem::remove(path);
  std::filesystem::remove(test);
}

TEST_CASE("malformed CTR rows are errors naming the file and line") {
  std::string good = d2l_row(1, "a", "b");
  std::string short_row = "1\ta\tb\n";
  std::string p1 = write_file("bad_count.txt", good + good + short_row);
  std::string m = testing::error_of([&] { CtrEncoder::fit(p1, CtrFormat::d2l, 1); });
  CHECK(m.find(p1) != std::string::npos);
  CHECK(m.find("line 3") != std::string::npos);
  CHECK(m.find("35") != std::string::npos);
  std::string p2 = write_file("bad_label.txt", good + d2l_row(2, "a", "b"));
  m = testing::error_of([&] { CtrEncoder::fit(p2, CtrFormat::d2l, 1); });
  CHECK(m.find("line 2") != std::string::npos);
  CHECK(m.find("label") != std::string::npos);
  // A test file with a bad row fails at encode time too.
  std::string ok = write_file("ok.txt", good);
  CtrEncoder e = CtrEncoder::fit(ok, CtrFormat::d2l, 1);
  CHECK(testing::error_of([&] { e.encode(p1); }).find("line 3") != std::string::npos);
  // Criteo: a non-integer integer feature.
  std::string row = "0\t1\tx7";
  for (int j = 3; j <= 13; ++j) row += detail::concat("\t", j);
  for (int j = 0; j < 26; ++j) row += "\tab";
  std::string p3 = write_file("bad_int.txt", row + "\n");
  m = testing::error_of([&] { CtrEncoder::fit(p3, CtrFormat::criteo, 1); });
  CHECK(m.find("line 1") != std::string::npos);
  CHECK(m.find("I2") != std::string::npos);
  CHECK(m.find("x7") != std::string::npos);
  // Avazu: a header without `click`, and a short row.
  std::string p4 = write_file("no_click.csv", "id,a,b\n1,2,3\n");
  CHECK(testing::error_of([&] { CtrEncoder::fit(p4, CtrFormat::avazu, 1); }).find("click") != std::string::npos);
  std::string p5 = write_file("short.csv", "id,click,a,b\n1,0,x,y\n2,1,x\n");
  CHECK(testing::error_of([&] { CtrEncoder::fit(p5, CtrFormat::avazu, 1); }).find("line 3") != std::string::npos);
  for (const auto& p : {ok, p1, p2, p3, p4, p5}) std::filesystem::remove(p);
}

TEST_CASE("CTR files: a carriage return inside a line, a NUL byte and a BOM") {
  // "b\r" mid-line would be kept as a value but come back from the saved encoder as "b".
  std::string cr = write_file("cr.txt", d2l_row(1, "a", "b\r") + d2l_row(0, "a", "b"));
  std::string m = testing::error_of([&] { CtrEncoder::fit(cr, CtrFormat::d2l, 1); });
  CHECK(m.find(cr + "', line 1: column 3 (field f2) holds a carriage return ('\\r') inside the line, in \"b\\r\"") !=
        std::string::npos);
  std::string crlf = d2l_row(1, "a", "b");
  crlf.insert(crlf.size() - 1, "\r");  // a whole-file CRLF ending is fine
  std::string p_crlf = write_file("crlf2.txt", crlf + crlf);
  CHECK(CtrEncoder::fit(p_crlf, CtrFormat::d2l, 1).kept_values(33) == std::vector<std::string>{"c33"});
  std::string avazu_cr = write_file("cr.csv", "id,click,a\r,b\n1,0,x,y\n");
  CHECK(testing::error_of([&] { CtrEncoder::fit(avazu_cr, CtrFormat::avazu, 1); })
            .find("line 1: the header holds a carriage return") != std::string::npos);
  std::string nul = write_file("nul.txt", d2l_row(1, "a", "b") + d2l_row(0, std::string("x\0y", 3), "b"));
  CHECK(testing::error_of([&] { CtrEncoder::fit(nul, CtrFormat::d2l, 1); }).find("line 2: a NUL byte at column 4") !=
        std::string::npos);
  std::string bom = write_file("bom.csv", "\xEF\xBB\xBFid,click,a\n1,0,x\n2,1,x\n");
  CtrEncoder e = CtrEncoder::fit(bom, CtrFormat::avazu, 1);
  CHECK(e.field_names() == std::vector<std::string>{"a"});  // the header's "id" is recognised after the BOM
  CHECK(e.encode(bom).rows() == 2);
  for (const auto& p : {cr, p_crlf, avazu_cr, nul, bom}) std::filesystem::remove(p);
}

TEST_CASE("Criteo: the real 10,000 rows") {
  CUREC_REQUIRE_DATA(path, "criteo/train-10k.txt");
  CtrEncoder e = CtrEncoder::fit(path, CtrFormat::criteo, 4);
  CtrData d = e.encode(path);
  CHECK(d.rows() == 10000);
  CHECK(clicks(d) == 2182);
  REQUIRE(d.num_fields() == 39);
  CHECK(e.field_names()[0] == "I1");
  CHECK(e.field_names()[13] == "C1");
  std::vector<int> cols;
  for (int c = 1; c <= 39; ++c) cols.push_back(c);
  CHECK(d.field_dims == expected_dims(path, '\t', false, cols, 4, true));
  check_consistent(d);
  // Thresholding shrinks the vocabulary; min_count 1 keeps every value.
  CtrEncoder all = CtrEncoder::fit(path, CtrFormat::criteo, 1);
  CHECK(all.field_dims() == expected_dims(path, '\t', false, cols, 1, true));
  CHECK(all.offsets().back() > e.offsets().back());
  // Maps round-trip through a file and encode the same rows.
  std::string saved = temp_path("criteo.maps");
  e.save(saved);
  CtrEncoder back = CtrEncoder::load(saved);
  CHECK(back == e);
  CHECK(back.encode(path).fields == d.fields);
  std::filesystem::remove(saved);
  // encode_row on the raw values of the first line gives that line's indices.
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string_view> raw;
  std::string_view lv(line);
  for (size_t start = lv.find('\t') + 1;;) {
    size_t end = lv.find('\t', start);
    raw.push_back(lv.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  CHECK(e.encode_row(raw) == std::vector<int32_t>(d.fields.begin(), d.fields.begin() + 39));
}

TEST_CASE("Avazu: both files; the test split reuses the train maps") {
  CUREC_REQUIRE_DATA(train_path, "avazu/train-first10k.csv");
  CUREC_REQUIRE_DATA(test_path, "avazu/sample-random10k.csv");
  CtrSplit s = read_ctr(train_path, test_path, CtrFormat::avazu, 4);
  CHECK(s.train.rows() == 9999);
  CHECK(clicks(s.train) == 1706);
  CHECK(s.test.rows() == 10000);
  CHECK(clicks(s.test) == 1616);
  REQUIRE(s.train.num_fields() == 22);  // 24 columns less id and click
  CHECK(s.encoder.field_names()[0] == "hour");
  CHECK(s.test.field_dims == s.train.field_dims);
  CHECK(s.test.offsets == s.train.offsets);
  std::vector<int> cols;
  for (int c = 2; c < 24; ++c) cols.push_back(c);
  CHECK(s.train.field_dims == expected_dims(train_path, ',', true, cols, 4, false));
  check_consistent(s.train);
  check_consistent(s.test);
  // Every training row has hour 14102100; the sampled rows span ten days, so nearly all of
  // their hours are unseen and map to the default.
  CHECK(s.train.field_dims[0] == 2);
  int64_t defaults = 0;
  for (int64_t r = 0; r < s.test.rows(); ++r) defaults += s.test.fields[r * 22] == 1;
  CHECK(defaults > 9900);
  // A value kept in training encodes the same in the test split (C1 = 1005 is common).
  int32_t c1 = static_cast<int32_t>(s.train.offsets[1] + s.encoder.local_index(1, "1005"));
  CHECK(s.encoder.local_index(1, "1005") != s.encoder.default_index(1));
  CHECK(std::count(s.test.fields.begin(), s.test.fields.end(), c1) > 5000);
  // Round trip, including the header check on a file with other columns.
  std::string saved = temp_path("avazu.maps");
  s.encoder.save(saved);
  CtrEncoder back = CtrEncoder::load(saved);
  CHECK(back == s.encoder);
  CHECK(back.encode(test_path).fields == s.test.fields);
  std::string other = write_file("other.csv", "id,click,x\n1,0,a\n");
  CHECK(testing::error_of([&] { back.encode(other); }).find("header") != std::string::npos);
  std::filesystem::remove(saved);
  std::filesystem::remove(other);
}

TEST_CASE("a corrupt maps file is a clear error") {
  std::string p = write_file("bad.maps", "curec-ctr-encoder 1\nformat criteo\nmin_count 4\nheader 0\nfields 2\nfield I1 1\n5\n");
  std::string m = testing::error_of([&] { CtrEncoder::load(p); });
  CHECK(m.find("end of file") != std::string::npos);
  // A value "v\r" (the line "v\r\r") would come back as "v" after a save: refused (found by
  // fuzz_ctr_encoder_load).
  std::string cr =
      write_file("cr.maps", "curec-ctr-encoder 1\nformat d2l\nmin_count 1\nheader 0\nfields 1\nfield f1 1\nv\r\r\n");
  CHECK(testing::error_of([&] { CtrEncoder::load(cr); }).find("line 7: a carriage return") != std::string::npos);
  std::filesystem::remove(cr);
  std::string crlf = write_file("crlf.maps", "curec-ctr-encoder 1\r\nformat avazu\r\nmin_count 1\r\nheader 2\r\n"
                                             "click\r\na\r\nfields 1\r\nfield a 1\r\nx\r\n");
  CHECK(CtrEncoder::load(crlf).kept_values(0) == std::vector<std::string>{"x"});  // CRLF endings alone are fine
  std::filesystem::remove(crlf);
  // The fields must be the format's: an edited file would encode part of each row.
  const std::string head = "curec-ctr-encoder 1\nformat ";
  const std::pair<std::string, std::string> wrong[] = {
      {"d2l\nmin_count 1\nheader 0\nfields 2\nfield f1 0\nfield f2 0\n",
       "line 5: the fields [\"f1\", \"f2\"] are not those of the d2l format "
       "[\"f1\", \"f2\", \"f3\", \"f4\", \"f5\", \"f6\", ... (34 in all)]"},
      {"criteo\nmin_count 1\nheader 1\nclick\nfields 0\n", "line 4: a criteo encoder has no header"},
      {"avazu\nmin_count 1\nheader 2\nid\nsite\nfields 1\nfield site 0\n",
       "line 4: the saved Avazu header has no 'click'"},
      {"avazu\nmin_count 1\nheader 3\nid\nclick\nsite\nfields 1\nfield app 0\n",
       "are not those of the avazu format [\"site\"]"},
      {"parquet\n", "line 2: expected 'format d2l', 'format criteo' or 'format avazu', got \"format parquet\""},
      {"d2l\nmin_count 0\n", "line 3: min_count must be at least 1, got 0"}};
  std::string w = temp_path("wrong.maps");
  for (const auto& [body, phrase] : wrong) {
    std::ofstream(w, std::ios::trunc) << head << body;
    const std::string e = testing::error_of([&] { CtrEncoder::load(w); });
    CHECK_MESSAGE(e.find(phrase) != std::string::npos, e);
  }
  std::filesystem::remove(w);
  std::string q = write_file("bad2.maps", "something else\n");
  CHECK(testing::error_of([&] { CtrEncoder::load(q); }).find("line 1") != std::string::npos);
  std::filesystem::remove(p);
  std::filesystem::remove(q);
}

TEST_CASE("synthetic CTR: labels follow the planted FM, seeded") {
  SyntheticCtrOptions o;
  o.rows = 20000;
  o.seed = 4;
  SyntheticCtr s = synthetic_ctr(o);
  check_consistent(s.data);
  CHECK(s.data.num_fields() == 6);
  // Mean label matches the mean planted probability within 4 binomial standard deviations.
  double mean_p = 0, mean_y = 0;
  for (int64_t r = 0; r < o.rows; ++r) {
    mean_p += s.probability[r];
    mean_y += s.data.labels[r];
  }
  mean_p /= o.rows;
  mean_y /= o.rows;
  CHECK(std::abs(mean_p - mean_y) < 4 * std::sqrt(mean_p * (1 - mean_p) / o.rows));
  CHECK(mean_y > 0.1);
  CHECK(mean_y < 0.6);
  // The planted probability ranks clicks above non-clicks (AUC well above chance).
  std::vector<std::pair<float, float>> py;
  for (int64_t r = 0; r < o.rows; ++r) py.emplace_back(s.probability[r], s.data.labels[r]);
  std::sort(py.begin(), py.end());
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < py.size(); ++i)
    if (py[i].second == 1.0f) {
      rank_sum += static_cast<double>(i + 1);
      ++pos;
    }
  double neg = o.rows - pos, auc = (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
  CHECK(auc > 0.75);
  // The label is a function of the planted model: recompute one row's probability.
  double logit = s.bias;
  std::vector<double> sum(s.latent_dim, 0.0);
  double sq = 0;
  for (int64_t f = 0; f < 6; ++f) {
    int32_t x = s.data.fields[f];
    logit += s.w[x];
    for (int64_t k = 0; k < s.latent_dim; ++k) {
      sum[k] += s.v[x * s.latent_dim + k];
      sq += s.v[x * s.latent_dim + k] * s.v[x * s.latent_dim + k];
    }
  }
  for (double t : sum) logit += 0.5 * t * t;
  logit -= 0.5 * sq;
  CHECK(s.probability[0] == doctest::Approx(1.0 / (1.0 + std::exp(-logit))).epsilon(1e-5));
  CHECK(synthetic_ctr(o).data.labels == s.data.labels);
  o.seed = 5;
  CHECK(synthetic_ctr(o).data.labels != s.data.labels);
}

TEST_CASE("read_ctr_split: one file split in place equals its two halves written apart") {
  std::string whole, head, tail;
  for (int r = 0; r < 10; ++r) {
    std::string row = d2l_row(r % 3 == 0, "a" + std::to_string(r % 4), r < 8 ? "seen" : "late");
    whole += row;
    (r < 8 ? head : tail) += row;
  }
  const std::string path = write_file("split_whole.txt", whole);
  data::CtrSplit in_place = data::read_ctr_split(path, data::CtrFormat::d2l, 0.2, 2);
  data::CtrSplit apart = data::read_ctr(write_file("split_head.txt", head), write_file("split_tail.txt", tail),
                                        data::CtrFormat::d2l, 2);
  CHECK(in_place.train.rows() == 8);
  CHECK(in_place.test.rows() == 2);
  CHECK(in_place.encoder == apart.encoder);  // learned from the training rows alone ("late" is unseen)
  CHECK(in_place.train.fields == apart.train.fields);
  CHECK(in_place.test.fields == apart.test.fields);
  CHECK(in_place.test.labels == apart.test.labels);
  CHECK(data::count_ctr_rows(path, data::CtrFormat::d2l) == 10);
  CHECK(data::detect_ctr_format(path) == data::CtrFormat::d2l);
  // A bad row in the test part is reported at its own line of the user's file.
  const std::string bad = write_file("split_bad.txt", whole + "1\tx\n");
  CHECK(testing::error_of([&] { data::read_ctr_split(bad, data::CtrFormat::d2l); }).find(bad + "', line 11") !=
        std::string::npos);
  CHECK(testing::error_of([&] { data::detect_ctr_format(write_file("split_odd.txt", "1\t2\t3\n")); })
            .find("not a CTR file curec can detect (3 tab-separated columns") != std::string::npos);
}
