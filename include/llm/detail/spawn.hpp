// Runs a pipeline coroutine for an initiating function: co_spawn completes with
// (exception_ptr, T); callers of llm see one llm::result<T> and never an exception.
#pragma once

#include <llm/core/result.hpp>

#include <asio/associator.hpp> // associator
#include <asio/co_spawn.hpp>   // co_spawn
#include <asio/error.hpp>      // operation_aborted

#include <exception>    // exception_ptr
#include <optional>     // co_spawn needs a default-constructible value; result<T> is not
#include <system_error> // what a cancelled co_await throws
#include <utility>      // std::move

namespace llm::detail {

inline error error_from(std::exception_ptr e) noexcept
{
    if (!e)
        return {errc::internal_error, "the pipeline ended without a result"};
    try {
        std::rethrow_exception(e);
    } catch (const std::system_error& ex) {
        // Asio's way of ending a coroutine cancelled before it could look (a cancellation that
        // came before its first step): the caller asked for it, it is no internal error.
        if (ex.code() == asio::error::operation_aborted)
            return {errc::cancelled, "cancelled before it started"};
        return {errc::internal_error, ex.what()};
    } catch (const std::exception& ex) {
        return {errc::internal_error, ex.what()};
    } catch (...) {
        return {errc::internal_error, "unknown exception"};
    }
}

// Keeps the user's handler's executor, allocator and cancellation slot visible to co_spawn.
template <class Handler, class T>
struct result_handler {
    Handler handler;

    void operator()(std::exception_ptr e, std::optional<result<T>> r)
    {
        if (e || !r)
            std::move(handler)(result<T>{error_from(e)});
        else
            std::move(handler)(std::move(*r));
    }
};

template <class T, class Executor, class Awaitable, class Handler>
void spawn(const Executor& ex, Awaitable&& body, Handler&& handler)
{
    asio::co_spawn(ex, std::forward<Awaitable>(body),
                   result_handler<std::decay_t<Handler>, T>{std::forward<Handler>(handler)});
}

} // namespace llm::detail

template <template <class, class> class Associator, class Handler, class T, class DefaultCandidate>
struct asio::associator<Associator, llm::detail::result_handler<Handler, T>, DefaultCandidate> {
    using type = typename Associator<Handler, DefaultCandidate>::type;

    static type get(const llm::detail::result_handler<Handler, T>& h,
                    const DefaultCandidate& c = DefaultCandidate()) noexcept
    {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};
