#pragma once
// The SASRec authors' sequences format (kang205/SASRec data/*.txt): one interaction a line,
// `user item`, two positive integer ids separated by spaces or tabs, each user's lines in time
// order (a user's lines need not be adjacent). Ids are kept as they are, as the authors' code
// keeps them: dense id = raw id - 1, and the numbers of users and items are the largest ids (an
// id the file skips is a user without interactions or an item nobody chose, which can still be
// drawn as a negative). Timestamps are the 0-based line order, so data/user_sequences.h keeps
// file order. Errors name the file, the line and the fix: an empty file, a blank line, a line
// without exactly two fields, an id that is not an integer, an id below 1 or above 2^31 - 1.
//
// A user with one or two lines is not an error: the paper's split (data/sequence_split.h) keeps
// such users for training only, and a user with one item has no next item to learn, so they
// contribute no training example and are not evaluated.
#include <string>

#include "data/interactions.h"

namespace curec::data {

Interactions read_sequence_file(const std::string& path);

}  // namespace curec::data
