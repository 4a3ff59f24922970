// CachePolicy: answers a request from earlier answers, and keeps new ones.
// A miss is not an error: lookup answers nullopt. Only complete, successful answers are
// stored; partial, cancelled and failed ones never reach store().
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/request.hpp>
#include <llm/core/response.hpp>
#include <llm/detail/hook.hpp>

#include <optional>    // lookup
#include <type_traits> // is_empty_v

namespace llm {

// Each hook may return its value directly or as asio::awaitable<...>.
template <class C>
concept cache_policy = requires(C& c, const request& r, const response& answer, time_point now)
{
    {
        c.lookup(r, now)
        } -> detail::hook_returning<std::optional<response>>;
    {
        c.store(r, answer, now)
        } -> detail::hook_returning<void>;
};

} // namespace llm

namespace llm::cache {

// Remembers nothing.
struct none {
    static std::optional<response> lookup(const request&, time_point) noexcept { return std::nullopt; }
    static constexpr void store(const request&, const response&, time_point) noexcept {}
};
static_assert(cache_policy<none> && std::is_empty_v<none>);

} // namespace llm::cache
