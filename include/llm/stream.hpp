// llm::stream: a streamed answer, pulled one chunk at a time.
//
//   auto s = client.stream(req);                 // nothing sent yet
//   while (true) {
//       auto c = co_await s.next();              // result<optional<chunk>>
//       if (!c) return report(c.error());        // refused, failed or cancelled
//       if (!*c) break;                          // the end
//       send((*c)->text);
//   }                                            // leaving early aborts the upstream request
//
// Retries and fallback happen only before the first chunk reaches the caller; after it, a
// failure ends the stream with that error. Cancelling (cancel(), a cancellation signal on
// next(), or destroying the stream) closes the upstream request at once, charges the budget
// for what was streamed, and stores nothing in the cache.
#pragma once

#include <llm/core/chunk.hpp>
#include <llm/core/request.hpp>
#include <llm/core/result.hpp>

#include <asio/async_result.hpp>  // async_initiate
#include <asio/use_awaitable.hpp> // use_awaitable, the default token

#include <memory>   // std::shared_ptr
#include <optional> // the end of the stream
#include <utility>  // std::exchange

namespace llm {

template <class Client>
class stream {
public:
    using executor_type = typename Client::executor_type;

    stream(stream&& other) noexcept : client_(std::exchange(other.client_, nullptr)), state_(std::move(other.state_)) {}
    stream& operator=(stream&& other) noexcept
    {
        if (this != &other) {
            cancel();
            client_ = std::exchange(other.client_, nullptr);
            state_ = std::move(other.state_);
        }
        return *this;
    }
    ~stream() { cancel(); }

    executor_type get_executor() const noexcept { return client_->get_executor(); }

    // The next chunk; nullopt once the answer is complete. The first call runs the pipeline
    // (rate limit, budget, cache, routes) and sends the request.
    //
    // @par Completion Signature
    //   void(llm::result<std::optional<llm::chunk>>)
    // @par Per-Operation Cancellation
    //   terminal: the upstream request is closed, the stream ends, and the handler receives
    //   errc::cancelled. Every later next() completes with nullopt.
    // One next() at a time; a second one while the first is pending fails with errc::bad_request.
    template <asio::completion_token_for<void(result<std::optional<chunk>>)> Token = asio::use_awaitable_t<>>
    auto next(Token&& token = {})
    {
        return asio::async_initiate<Token, void(result<std::optional<chunk>>)>(
            [](auto handler, Client* client, auto state) { client->start_next(std::move(state), std::move(handler)); },
            token, client_, state_);
    }

    // Stops the stream now: the upstream request is closed and a pending next() completes with
    // errc::cancelled. Safe to call at any time and more than once, from the client's executor
    // (like every member of a stream; a stream is not meant to be shared between threads).
    void cancel()
    {
        if (client_ && state_)
            client_->abandon(state_);
    }

private:
    friend Client;

    stream(Client* client, request req)
        : client_(client), state_(std::make_shared<typename Client::stream_state>(std::move(req)))
    {
    }

    Client* client_;
    // Shared with a pending next(), which may outlive this handle.
    std::shared_ptr<typename Client::stream_state> state_;
};

} // namespace llm
