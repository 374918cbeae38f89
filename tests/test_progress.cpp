#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "tests/testing.h"
#include "train/progress.h"

using namespace curec;
using train::ProgressBar;
using namespace std::chrono_literals;

namespace {

// A steady clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  ProgressBar::Clock fn() {
    return [this] { return now; };
  }
};

std::string contents(std::FILE* f) {
  std::fflush(f);
  long end = std::ftell(f);
  std::string s(static_cast<size_t>(end), '\0');
  std::rewind(f);
  size_t got = std::fread(s.data(), 1, s.size(), f);
  s.resize(got);
  std::fseek(f, 0, SEEK_END);
  return s;
}

size_t frames(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\r')); }

}  // namespace

TEST_CASE("progress: a frame shows label, bar, percent, rate and ETA, drawn in place") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  FakeClock clock;
  {
    ProgressBar bar(f, "epoch 2/5", 100, true, clock.fn());
    clock.now += 2s;
    bar.update(50, 5000);
    std::string s = contents(f);
    CHECK(s == "\repoch 2/5 [##############..............]  50%  2500 ex/s  ETA 0:02");
    CHECK(s.find('\n') == std::string::npos);
  }
  std::fclose(f);
}

TEST_CASE("progress: render formats rates, long ETAs and the no-rate-yet state") {
  FakeClock clock;
  ProgressBar bar(nullptr, "train", 100, false, clock.fn());
  std::string quarter = bar.render(25, 25000, 10.0);
  CHECK(quarter.find(" 25%") != std::string::npos);
  CHECK(quarter.find("2500 ex/s") != std::string::npos);
  CHECK(quarter.find("ETA 0:30") != std::string::npos);
  CHECK(bar.render(1, 123456, 1.0).find("123.5k ex/s") != std::string::npos);
  CHECK(bar.render(1, 1, 36.0).find("ETA 59:24") != std::string::npos);
  CHECK(bar.render(1, 1, 100.0).find("ETA 2:45:00") != std::string::npos);
  CHECK(bar.render(0, 0, 0.0).find("- ex/s  ETA -") != std::string::npos);
  CHECK(bar.render(100, 10, 1.0).find("[############################] 100%") != std::string::npos);
  ProgressBar empty(nullptr, "empty", 0, false);
  CHECK(empty.render(0, 0, 0.0).find("100%") != std::string::npos);
}

TEST_CASE("progress: redraws at most once per interval") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  FakeClock clock;
  {
    ProgressBar bar(f, "e", 1000, true, clock.fn());
    bar.update(1, 10);  // the first update always draws
    CHECK(frames(contents(f)) == 1);
    for (int step = 2; step <= 100; ++step) {  // 99 updates 1 ms apart: 0.099 s, under one interval
      clock.now += 1ms;
      bar.update(step, step * 10);
    }
    CHECK(frames(contents(f)) == 1);
    clock.now += 1ms;  // 100 ms after the first frame
    bar.update(101, 1010);
    CHECK(frames(contents(f)) == 2);
    for (int step = 102; step <= 600; ++step) {  // 0.499 s more: four more intervals end
      clock.now += 1ms;
      bar.update(step, step * 10);
    }
    CHECK(frames(contents(f)) == 6);
  }  // the bar draws its last frame (a clear) before the file closes
  std::fclose(f);
}

TEST_CASE("progress: finish clears the line, without a newline, once") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  FakeClock clock;
  {
    ProgressBar bar(f, "epoch 1/1", 10, true, clock.fn());
    clock.now += 1s;
    bar.update(5, 12345678);  // a long frame: "12.3M ex/s"
    clock.now += 1s;
    bar.update(6, 6);  // a shorter one must cover the longer one's tail
    std::string s = contents(f);
    size_t second = s.rfind('\r');
    CHECK(s.size() - second == second);  // both frames are as wide as the first
    bar.finish();
    std::string done = contents(f);
    std::string tail = done.substr(s.size());
    std::string clear(second + 1, ' ');
    clear.front() = clear.back() = '\r';
    CHECK(tail == clear);
    bar.finish();
    clock.now += 1s;
    bar.update(7, 7);  // after finish nothing more is drawn
  }                    // nor by the destructor
  std::string all = contents(f);
  CHECK(all.back() == '\r');
  CHECK(all.find('\n') == std::string::npos);
  CHECK(frames(all) == 4);
  std::fclose(f);
}

TEST_CASE("progress: a disabled bar writes nothing; enabled_for wants a terminal and no --quiet") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  CHECK_FALSE(ProgressBar::enabled_for(f, false));  // a file is not a terminal
  CHECK_FALSE(ProgressBar::enabled_for(stdout, false));
  CHECK_FALSE(ProgressBar::enabled_for(nullptr, false));
  {
    ProgressBar automatic(f, "auto", 10);  // decides by enabled_for: off for a file
    CHECK_FALSE(automatic.enabled());
    automatic.update(3, 30);
    FakeClock clock;
    ProgressBar off(f, "off", 10, false, clock.fn());
    off.update(1, 1);
    clock.now += 1s;
    off.update(2, 2);
    off.finish();
  }
  CHECK(contents(f).empty());
  std::fclose(f);

  // A pseudo-terminal counts as a terminal, unless the run is quiet.
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    MESSAGE("SKIPPED: no pseudo-terminal here to check enabled_for on a terminal");
  } else {
    std::FILE* tty = std::fopen(::ptsname(master), "w");
    REQUIRE(tty);
    CHECK(ProgressBar::enabled_for(tty, false));
    CHECK_FALSE(ProgressBar::enabled_for(tty, true));
    std::fclose(tty);
  }
  if (master >= 0) ::close(master);
}

TEST_CASE("progress: bad use is a clear error") {
  CHECK(testing::error_of([] { ProgressBar bar(stdout, "e", 10, true); }).find("stderr only") != std::string::npos);
  CHECK(testing::error_of([] { ProgressBar bar(nullptr, "e", -1, false); }).find("total_steps is -1") !=
        std::string::npos);
  ProgressBar bar(nullptr, "epoch 3", 10, false);
  std::string err = testing::error_of([&] { bar.update(11, 0); });
  CHECK(err.find("epoch 3") != std::string::npos);
  CHECK(err.find("outside 0..10") != std::string::npos);
}
