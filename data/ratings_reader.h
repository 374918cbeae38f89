#pragma once
// Ratings files: one `user SEP item SEP rating [SEP timestamp]` row per line, numeric ids.
// Covers MovieLens u.data (tab), ratings.dat (`::`), ratings.csv (header, half stars) and any
// such CSV/TSV. Malformed input stops with an error naming the file, line and problem;
// nothing is skipped or clamped.
#include <memory>
#include <string>

#include "data/interactions.h"

namespace curec::data {

struct RatingsFormat {
  std::string separator = ",";  // one or more characters, e.g. "\t", "::", ","
  bool header = false;          // the first line names the columns and is skipped
  bool has_timestamp = true;    // a 4th column of integer seconds
  float min_rating = 0.5f, max_rating = 5.0f;  // a rating outside [min, max] is an error

  static RatingsFormat ml100k();     // u.data: tab, no header, timestamp, 1..5
  static RatingsFormat ml_dat();     // ML-1M/10M ratings.dat: "::", no header, timestamp, 0.5..5
  static RatingsFormat ml_csv();     // ML latest/20M/25M ratings.csv: ",", header, timestamp, 0.5..5
  static RatingsFormat csv(const std::string& separator, bool header, bool has_timestamp);
};

// Reads a ratings file; dense ids follow the numeric order of the raw ids it contains.
Interactions read_ratings(const std::string& path, const RatingsFormat& format);
// Reads a ratings file into given id spaces (e.g. a canonical split of a full data set):
// an id the maps do not hold is an error.
Interactions read_ratings(const std::string& path, const RatingsFormat& format, std::shared_ptr<const IdMap> users,
                          std::shared_ptr<const IdMap> items);

// Guesses the format from the first lines: separator ("::", tab, ",", ";"), a header when the
// first field of line 1 is not a number, a timestamp when rows have 4 fields. The rating range
// is the default [0.5, 5].
RatingsFormat detect_ratings_format(const std::string& path);

}  // namespace curec::data
