// Transport: carries one attempt of a call to whoever answers it.
//
// Two kinds satisfy it:
// - a model transport speaks llm::request and llm::response itself: an in-process model,
//   or the scripted transport the tests and benchmarks use. It needs no provider.
// - an HTTP transport sends an http::request and returns the http::response; a provider
//   turns requests into HTTP and answers back (llm::transport::https).
#pragma once

#include <llm/core/chunk.hpp>
#include <llm/core/request.hpp>
#include <llm/core/response.hpp>
#include <llm/core/result.hpp>
#include <llm/detail/handler_archetype.hpp>
#include <llm/http/message.hpp>

#include <asio/async_result.hpp>    // async_initiate
#include <asio/post.hpp>            // post
#include <asio/system_executor.hpp> // system_executor

#include <concepts> // convertible_to
#include <optional> // chunk stream end
#include <utility>  // std::declval

namespace llm {

// A stream of chunks from upstream, one async_next at a time:
//   async_next(handler)   completes with void(result<std::optional<chunk>>); nullopt is the end
//   cancel()              aborts at once: the pending async_next completes with errc::cancelled
//                         and the upstream request is closed so no further tokens are generated
// Destroying an upstream also aborts it.
template <class U>
concept upstream = requires(U& u)
{
    u.async_next(detail::handler_archetype<result<std::optional<chunk>>>{});
    u.cancel();
};

// async_complete(request, handler) completes with void(result<response>); it reads the request
// only before it returns (copy what you keep), so callers need not keep it alive.
// open(request) returns an upstream that sends nothing before its first async_next; like
// async_complete it reads the request only before it returns.
// Operations honour per-operation cancellation and complete through the handler's executor,
// never inside the initiating call.
template <class T>
concept model_transport = requires(T& t, const request& r)
{
    typename T::executor_type;
    {
        t.get_executor()
        } -> std::convertible_to<typename T::executor_type>;
    t.async_complete(r, detail::handler_archetype<result<response>>{});
    {
        t.open(r)
        } -> upstream;
};

// async_send(request, handler) completes with void(result<http::response>) and reads the
// request only before it returns.
template <class T>
concept http_transport = requires(T& t, const http::request& r)
{
    typename T::executor_type;
    {
        t.get_executor()
        } -> std::convertible_to<typename T::executor_type>;
    t.async_send(r, detail::handler_archetype<result<http::response>>{});
};

// An HTTP transport that can also hand over a response as it arrives: open(request) returns a
// body stream whose async_read_head completes with void(result<http::response>) (the body
// empty), whose async_read_some completes with void(result<std::optional<std::string>>) (the
// next piece; nullopt at the end), and whose cancel() closes the connection.
template <class T>
concept http_streaming_transport = http_transport<T> && requires(T& t, const http::request& r)
{
    t.open(r).async_read_head(detail::handler_archetype<result<http::response>>{});
    t.open(r).async_read_some(detail::handler_archetype<result<std::optional<std::string>>>{});
    t.open(r).cancel();
};

template <class T>
concept transport_policy = model_transport<T> || http_transport<T>;

} // namespace llm

namespace llm::transport {

// Reaches nobody: every call fails with errc::provider_unavailable. With a cache in front,
// it makes a client that answers only what the cache already knows.
struct none {
    using executor_type = asio::system_executor;
    static executor_type get_executor() noexcept { return {}; }

    template <class Handler>
    static void async_complete(const request&, Handler&& handler)
    {
        fail_later(std::forward<Handler>(handler), result<response>{unreachable()});
    }

    struct stream {
        template <class Handler>
        void async_next(Handler&& handler)
        {
            fail_later(std::forward<Handler>(handler), result<std::optional<chunk>>{unreachable()});
        }
        void cancel() noexcept {}
    };
    static stream open(const request&) noexcept { return {}; }

private:
    static error unreachable() { return {errc::provider_unavailable, "llm::transport::none reaches no provider"}; }

    template <class Handler, class Result>
    static void fail_later(Handler&& handler, Result r)
    {
        asio::post(asio::get_associated_executor(handler, executor_type{}),
                   [h = std::forward<Handler>(handler), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
    }
};
static_assert(model_transport<none> && std::is_empty_v<none>);

} // namespace llm::transport
