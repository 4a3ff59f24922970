// BudgetPolicy: reserves tokens before a call, then commits what the call really used and
// refunds the rest. Reserving first keeps concurrent calls from overspending together.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/request.hpp>
#include <llm/core/result.hpp>
#include <llm/core/usage.hpp>
#include <llm/detail/hook.hpp>

#include <type_traits> // is_empty_v
#include <utility>     // std::move

namespace llm {

//   reserve(request&, now)         admits the call or fails with errc::budget_exceeded; may
//                                  lower request.max_tokens to what the budget allows
//   commit(reservation, used, now) charges the real usage (a cancelled stream: what streamed)
//   release(reservation, now)      gives everything back (cache hit, failed call)
// Each hook may return its value directly or as asio::awaitable<...>.
template <class B>
concept budget_policy = requires(B& b, request& r, typename B::reservation res, const usage& used, time_point now)
{
    {
        b.reserve(r, now)
        } -> detail::hook_returning<result<typename B::reservation>>;
    {
        b.commit(std::move(res), used, now)
        } -> detail::hook_returning<void>;
    {
        b.release(std::move(res), now)
        } -> detail::hook_returning<void>;
};

} // namespace llm

namespace llm::budget {

// Spends without counting.
struct none {
    struct reservation {};
    static result<reservation> reserve(request&, time_point) noexcept { return reservation{}; }
    static constexpr void commit(reservation, const usage&, time_point) noexcept {}
    static constexpr void release(reservation, time_point) noexcept {}
};
static_assert(budget_policy<none> && std::is_empty_v<none>);

} // namespace llm::budget
