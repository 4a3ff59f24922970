// token::provider_counter: exact input counts for providers whose tokenizer is not public,
// from their own count endpoints (Anthropic's POST /v1/messages/count_tokens, Gemini's
// models/{model}:countTokens), as a token counter the budgets and rate limits take.
//
// Opt in: each count is a round trip to the provider before the call, so a reservation waits
// for it. When the endpoint cannot answer (network, quota, an unknown model), the count falls
// back to `Fallback` (the documented estimator by default) and the failure goes to on_error:
// counting never fails a call that the provider itself might accept.
//
//   llm::transport::https counting(io.get_executor());
//   llm::token::provider_counter exact(llm::provider::anthropic(config), counting);
//   llm::budget::tokens<llm::store::memory, decltype(exact)> budget(store, limits, options, exact);
#pragma once

#include <llm/core/error.hpp>
#include <llm/core/request.hpp>
#include <llm/detail/hook.hpp>
#include <llm/token/counter.hpp>
#include <llm/transport/transport.hpp>

#include <asio/awaitable.hpp> // count
#include <functional>         // on_error
#include <utility>            // std::move

namespace llm::token {

// Providers that can count: encode_count(request) -> result<http::request>, and
// decode_count(http::response) -> result<std::uint64_t>.
template <class P>
concept counting_provider = requires(const P& p, const request& r, const http::response& answer)
{
    {
        p.encode_count(r)
        } -> std::same_as<result<http::request>>;
    {
        p.decode_count(answer)
        } -> std::same_as<result<std::uint64_t>>;
};

template <counting_provider Provider, http_transport Transport, token_counter Fallback = estimator>
class provider_counter {
public:
    // The transport must outlive the counter (and its copies, which share it).
    provider_counter(Provider provider, Transport& transport, Fallback fallback = {},
                     std::function<void(const error&)> on_error = {})
        : provider_(std::move(provider)), transport_(&transport), fallback_(std::move(fallback)),
          on_error_(std::move(on_error))
    {
    }

    // The provider's count, or the fallback's when the provider could not give one.
    asio::awaitable<std::uint64_t> count(const request& r) const
    {
        auto counted = co_await exact(r);
        if (counted)
            co_return counted.value();
        if (on_error_)
            on_error_(counted.error());
        co_return co_await llm::detail::call_hook([&] { return fallback_.count(r); });
    }

    // The provider's count, or why there is none.
    asio::awaitable<result<std::uint64_t>> exact(const request& r) const
    {
        auto encoded = provider_.encode_count(r);
        if (!encoded)
            co_return encoded.error();
        const http::request& sent = encoded.value();
        auto answer = co_await llm::detail::await_operation<result<http::response>>(
            [this, &sent](auto handler) { transport_->async_send(sent, std::move(handler)); });
        if (!answer)
            co_return answer.error();
        co_return provider_.decode_count(answer.value());
    }

private:
    Provider provider_;
    Transport* transport_;
    Fallback fallback_;
    std::function<void(const error&)> on_error_;
};

} // namespace llm::token
