// Who a call is made for: the key of rate limits, budgets and cost reports.
#pragma once

#include <string> // user, tenant, feature

namespace llm {

struct identity {
    std::string user;    // the end user, e.g. an account id; never a secret
    std::string tenant;  // the organisation the user belongs to
    std::string feature; // the product feature making the call, e.g. "summarize"

    friend bool operator==(const identity&, const identity&) = default;
};

} // namespace llm
