// Policy hooks may answer at once (a value, or nothing) or later (an asio::awaitable, for
// stores that talk to a server). The pipeline awaits both the same way through call_hook().
#pragma once

#include <llm/detail/awaitable_traits.hpp>

#include <asio/async_result.hpp>  // async_initiate
#include <asio/awaitable.hpp>     // awaitable
#include <asio/use_awaitable.hpp> // use_awaitable

#include <functional>  // std::invoke_result_t
#include <type_traits> // is_void_v

namespace llm::detail {

// One co_await for both kinds of hook. Only policies that are present pay for this frame
// (recycled by Asio's per-thread allocator); absent ones are skipped at compile time.
template <class F, class R = std::invoke_result_t<F&>>
asio::awaitable<typename awaited<R>::type> call_hook(F hook)
{
    if constexpr (is_awaitable<R>::value)
        co_return co_await hook();
    else if constexpr (std::is_void_v<R>)
        hook();
    else
        co_return hook();
}

// Transports and upstreams take plain completion handlers, the simplest thing to implement;
// this awaits such an operation: `start(handler)` starts it.
template <class Result, class Start>
auto await_operation(Start start)
{
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result)>(
        [](auto handler, Start s) { s(std::move(handler)); }, asio::use_awaitable, std::move(start));
}

} // namespace llm::detail
