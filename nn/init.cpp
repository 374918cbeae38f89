#include "nn/init.h"

#include "core/random.h"

namespace curec::nn {

Fans fans(const Shape& s) {
  CUREC_CHECK(s.size() >= 2, "init: fan-in/fan-out need a weight with at least 2 dims ([out, in] or [out, in, kh, kw]), got ",
              shape_str(s));
  int64_t receptive = 1;
  for (size_t d = 2; d < s.size(); ++d) receptive *= s[d];
  return {s[1] * receptive, s[0] * receptive};
}

Tensor& normal_(Tensor& t, float mean, float stddev, Generator& gen) {
  CUREC_CHECK(stddev >= 0.0f, "normal_: stddev must be >= 0, got ", stddev);
  return curec::normal_(t, mean, stddev, gen);
}

Tensor& uniform_(Tensor& t, float low, float high, Generator& gen) {
  CUREC_CHECK(low <= high, "uniform_: low ", low, " exceeds high ", high);
  return curec::uniform_(t, low, high, gen);
}

Tensor& xavier_uniform_(Tensor& t, float gain, Generator& gen) {
  Fans f = fans(t.shape());
  float a = gain * std::sqrt(6.0f / static_cast<float>(f.in + f.out));
  return curec::uniform_(t, -a, a, gen);
}

Tensor& xavier_normal_(Tensor& t, float gain, Generator& gen) {
  Fans f = fans(t.shape());
  return curec::normal_(t, 0.0f, gain * std::sqrt(2.0f / static_cast<float>(f.in + f.out)), gen);
}

Tensor& kaiming_uniform_(Tensor& t, float a, Generator& gen) {
  Fans f = fans(t.shape());
  float bound = std::sqrt(6.0f / ((1.0f + a * a) * static_cast<float>(f.in)));
  return curec::uniform_(t, -bound, bound, gen);
}

Tensor& zeros_(Tensor& t) { return t.zero_(); }
Tensor& constant_(Tensor& t, float value) { return t.fill_(value); }

}  // namespace curec::nn
