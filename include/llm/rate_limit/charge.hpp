// What the rate-limit operations share: the limits one key is charged against, and the verdict
// they return, whichever algorithm counts.
#pragma once

#include <llm/core/result.hpp>
#include <llm/detail/inline_vector.hpp>

#include <chrono>  // milliseconds
#include <cstdint> // std::int64_t
#include <span>    // replies
#include <string>  // messages

namespace llm::rate_limit {

// One limit of one key, and what this call costs against it.
struct charge {
    double count = 0;  // the limit per window
    double per_ms = 0; // the window
    double cost = 0;   // 1 for requests; the request's tokens for tokens
};

// A rule limits requests, tokens, or both, in one cell.
using charges = llm::detail::inline_vector<charge, 2>;

struct verdict {
    bool admitted = false;
    std::size_t binding = 0;                 // the charge reported: the one refusing, or the scarcest
    std::int64_t remaining = 0;              // of the binding limit, after this call
    std::chrono::milliseconds retry_after{}; // refused: until it would be admitted; -1 ms: never
    std::chrono::milliseconds reset{};       // until every limit is whole again
    std::chrono::milliseconds keep{};        // how long the store keeps the cell
};

namespace detail {

// The shape every rate-limit script shares: ARGV[2] says whether this is a give-back, ARGV[3]
// how many charges follow, three numbers each; the reply is the verdict's six integers.
template <class Push>
void push_charges(Push& push, bool give_back, const charges& cs)
{
    push(give_back ? 1.0 : 0.0);
    push(static_cast<double>(cs.size()));
    for (const auto& c : cs) {
        push(c.count);
        push(c.per_ms);
        push(c.cost);
    }
}

inline result<verdict> decode_verdict(std::span<const std::int64_t> reply, const char* op)
{
    if (reply.size() != 6 || reply[1] < 0 || reply[1] > 1)
        return fail(errc::internal_error, std::string(op) + ": the script's answer has an unexpected shape");
    return verdict{.admitted = reply[0] != 0,
                   .binding = static_cast<std::size_t>(reply[1]),
                   .remaining = reply[2],
                   .retry_after = std::chrono::milliseconds{reply[3]},
                   .reset = std::chrono::milliseconds{reply[4]},
                   .keep = std::chrono::milliseconds{reply[5]}};
}

} // namespace detail
} // namespace llm::rate_limit
