// RateLimitPolicy: admits or refuses a call for its identity before anything is spent.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/request.hpp>
#include <llm/core/result.hpp>
#include <llm/detail/hook.hpp>

#include <type_traits> // is_empty_v

namespace llm {

// acquire admits the call, or fails with errc::rate_limited and error::retry_after set.
// It may return its result directly or as asio::awaitable<result<void>>.
template <class L>
concept rate_limit_policy = requires(L& l, const request& r, time_point now)
{
    {
        l.acquire(r, now)
        } -> detail::hook_returning<result<void>>;
};

} // namespace llm

namespace llm::rate_limit {

// Admits everything.
struct none {
    static result<void> acquire(const request&, time_point) noexcept { return success(); }
};
static_assert(rate_limit_policy<none> && std::is_empty_v<none>);

} // namespace llm::rate_limit
