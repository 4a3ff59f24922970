// RetryPolicy: decides whether a failed attempt is tried again on the same route, and when.
// The client does the waiting, on its clock's timer, so backoff is tested without sleeping.
#pragma once

#include <llm/core/error.hpp>

#include <chrono>      // milliseconds, nanoseconds
#include <concepts>    // same_as
#include <optional>    // next_delay
#include <type_traits> // is_empty_v

namespace llm::retry {

// What the policy knows about the attempt that just failed.
struct attempt {
    unsigned number = 1;                // 1 for the first try
    std::chrono::nanoseconds elapsed{}; // since the first try on this route, on the client's clock
};

} // namespace llm::retry

namespace llm {

// next_delay returns how long to wait before the next attempt, or nullopt to give up.
// Called concurrently by concurrent calls: a policy with state must protect it.
template <class R>
concept retry_policy = requires(R& r, const retry::attempt& a, const error& e)
{
    {
        r.next_delay(a, e)
        } -> std::same_as<std::optional<std::chrono::milliseconds>>;
};

} // namespace llm

namespace llm::retry {

// Never retries. Empty, so a client that holds it pays nothing.
struct none {
    constexpr std::optional<std::chrono::milliseconds> next_delay(const attempt&, const error&) const noexcept
    {
        return std::nullopt;
    }
};
static_assert(retry_policy<none> && std::is_empty_v<none>);

} // namespace llm::retry
