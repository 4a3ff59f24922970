// A streamed call over an HTTP transport: the provider encodes the request, the transport hands
// the body over as it arrives, the provider's stream decoder turns it into chunks. An error
// status is read whole and decoded like a complete answer's, so a 429 before the first chunk
// is retried like any other.
#pragma once

#include <llm/core/chunk.hpp>
#include <llm/core/request.hpp>
#include <llm/core/result.hpp>
#include <llm/detail/hook.hpp>
#include <llm/detail/spawn.hpp>
#include <llm/provider/detail/http_errors.hpp>
#include <llm/provider/provider.hpp>
#include <llm/transport/transport.hpp>

#include <asio/awaitable.hpp> // awaitable

#include <cstddef>  // std::size_t
#include <optional> // the body, a failure
#include <string>   // pieces
#include <utility>  // std::declval, std::exchange
#include <vector>   // chunks ready

namespace llm::detail {

template <class Transport, class Provider>
class http_upstream {
public:
    using body_type = decltype(std::declval<Transport&>().open(std::declval<const http::request&>()));

    // An error body is read up to this size for its message; the rest is not worth waiting for.
    static constexpr std::size_t max_error_body = std::size_t{1} << 20;

    http_upstream(Transport& transport, const Provider& provider, const request& r)
        : executor_(transport.get_executor()), provider_(&provider), decoder_(provider.decoder())
    {
        auto wire = provider.encode_stream(r);
        if (wire)
            body_.emplace(transport.open(wire.value()));
        else
            failure_ = std::move(wire).error();
    }
    http_upstream(const http_upstream&) = delete;
    http_upstream& operator=(const http_upstream&) = delete;

    template <class Handler>
    void async_next(Handler&& handler)
    {
        spawn<std::optional<chunk>>(executor_, next(), std::forward<Handler>(handler));
    }

    void cancel()
    {
        if (body_)
            body_->cancel();
    }

private:
    using decoder_type = decltype(std::declval<const Provider&>().decoder());

    asio::awaitable<std::optional<result<std::optional<chunk>>>> next()
    {
        if (!head_read_ && !failure_) { // without a failure, the request was encoded and body_ opened
            head_read_ = true;
            if (auto refused = co_await read_head())
                failure_ = std::move(*refused);
        }
        while (taken_ == ready_.size() && !ended_ && !failure_) {
            ready_.clear();
            taken_ = 0;
            auto piece = co_await read_some();
            if (!piece) {
                failure_ = std::move(piece).error();
            } else if (!piece.value()) {
                ended_ = true;
                if (auto done = decoder_.finish(ready_); !done)
                    failure_ = std::move(done).error();
            } else if (auto fed = decoder_.feed(*piece.value(), ready_); !fed) {
                failure_ = std::move(fed).error();
                body_->cancel(); // the rest of the answer is of no use
            }
        }
        // Chunks decoded before a failure reach the caller first.
        if (taken_ < ready_.size()) {
            chunk next = std::move(ready_[taken_++]);
            if (!limits_.empty())
                next.rate_limits = std::exchange(limits_, {}); // the head's, with the first chunk
            co_return result<std::optional<chunk>>{std::move(next)};
        }
        if (failure_)
            co_return *failure_;
        co_return result<std::optional<chunk>>{std::nullopt};
    }

    // Reads the head; an error status becomes the provider's decoded error.
    asio::awaitable<std::optional<error>> read_head()
    {
        auto head = co_await await_operation<result<http::response>>(
            [&](auto handler) { body_->async_read_head(std::move(handler)); });
        if (!head)
            co_return std::move(head).error();
        if (head.value().status >= 200 && head.value().status <= 299) {
            limits_ = provider::detail::rate_limits_of(head.value().headers);
            co_return std::nullopt;
        }
        http::response whole = std::move(head).value();
        while (whole.body.size() < max_error_body) {
            auto piece = co_await read_some();
            if (!piece || !piece.value())
                break; // the status says enough without the rest of the body
            whole.body += *piece.value();
        }
        body_->cancel();
        auto decoded = provider_->decode(whole);
        if (decoded)
            co_return error{errc::malformed_response,
                            "HTTP " + std::to_string(whole.status) + " with a body that reads as an answer"};
        co_return std::move(decoded).error();
    }

    auto read_some()
    {
        return await_operation<result<std::optional<std::string>>>(
            [&](auto handler) { body_->async_read_some(std::move(handler)); });
    }

    typename Transport::executor_type executor_;
    const Provider* provider_;
    decoder_type decoder_;
    std::optional<body_type> body_;
    std::vector<chunk> ready_; // decoded, not yet taken
    std::size_t taken_ = 0;
    rate_limits limits_; // from the head, until the first chunk carries them
    bool head_read_ = false;
    bool ended_ = false;
    std::optional<error> failure_;
};

// What a stream reads from: a model transport's own upstream, or an HTTP transport's body
// through the provider's decoder.
template <class Transport, class Provider>
struct upstream_for {
    struct type {}; // this pairing cannot stream; llm::client says why when stream() is used
};
template <model_transport Transport, class Provider>
struct upstream_for<Transport, Provider> {
    using type = decltype(std::declval<Transport&>().open(std::declval<const request&>()));
};
template <http_streaming_transport Transport, streaming_provider Provider>
struct upstream_for<Transport, Provider> {
    using type = http_upstream<Transport, Provider>;
};

} // namespace llm::detail
