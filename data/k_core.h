#pragma once
// k-core filtering: drop the rows of users and items with fewer than k interactions, again and
// again (dropping an item can push a user below k, and back), until every remaining user and
// item has at least k. The usual preprocessing of sequential-recommendation data sets (e.g.
// 5-core Amazon categories).
#include <cstdint>

#include "data/interactions.h"

namespace curec::data {

// The surviving rows in their original order, with ids renumbered densely over the survivors
// (raw ids kept, so dense ids still follow the raw ids' order). k <= 1 returns the data as it
// is. No row surviving is an error naming k.
Interactions k_core(const Interactions& data, int k);

}  // namespace curec::data
