// The token-counter seam: how many input tokens a request will be billed for, known before it
// is sent, so that rate limits and budgets can reserve them. The default is an estimate that
// learns from the usage providers report; an exact tokenizer plugs into the same seam.
#pragma once

#include <llm/core/request.hpp>
#include <llm/core/usage.hpp>
#include <llm/detail/awaitable_traits.hpp>

#include <algorithm> // std::clamp
#include <atomic>    // the calibration, shared by copies and threads
#include <cmath>     // std::ceil
#include <concepts>  // convertible_to
#include <cstdint>   // std::uint64_t
#include <memory>    // std::shared_ptr
#include <string>    // texts

namespace llm {

// count(request) -> the input tokens the request will likely be billed for: at once, or as an
// asio::awaitable<std::uint64_t> for a counter that asks a provider (token::provider_counter).
template <class C>
concept token_counter = requires(const C& c, const request& r)
{
    {
        c.count(r)
        } -> detail::hook_returning<std::uint64_t>;
};

} // namespace llm

namespace llm::token {

// Hands every text of r that a provider bills to `text`, and returns the framing chat models
// add around them: 4 tokens per message, 3 to prime the reply, 8 per tool definition.
template <class F>
std::uint64_t visit_billed_text(const request& r, F&& text)
{
    std::uint64_t framing = 3;
    for (const auto& m : r.messages) {
        framing += 4;
        text(m.text);
        for (const auto& call : m.tool_calls) {
            text(call.name);
            text(call.arguments);
        }
        for (const auto& result : m.tool_results)
            text(result.content);
    }
    for (const auto& tool : r.tools) {
        framing += 8;
        text(tool.name);
        text(tool.description);
        text(tool.parameters);
    }
    if (r.response_format)
        text(r.response_format->schema);
    return framing;
}

// Text weight of a request: ASCII bytes count a quarter token each, every other character a
// whole one. BPE vocabularies spend about four English characters per token, and about one per
// character of CJK, Cyrillic or Devanagari text.
inline double raw_estimate(const request& r) noexcept
{
    double ascii = 0;
    double other = 0;
    const auto framing = visit_billed_text(r, [&](const std::string& text) {
        for (const char ch : text) {
            const auto byte = static_cast<unsigned char>(ch);
            if (byte < 0x80)
                ascii += 1;
            else if ((byte & 0xC0) != 0x80) // the first byte of a multi-byte character
                other += 1;
        }
    });
    return ascii / 4 + other + static_cast<double>(framing);
}

// The default counter: raw_estimate() times a factor learned from what providers billed.
// Each calibrate() moves the factor a tenth of the way towards what would have made that
// estimate exact, within [0.25, 4]; copies share it. Estimates err by some percent either way:
// a budget that must never be exceeded by even one token needs an exact tokenizer or
// token::upper_bound.
class estimator {
public:
    std::uint64_t count(const request& r) const noexcept
    {
        return static_cast<std::uint64_t>(std::ceil(raw_estimate(r) * factor()));
    }

    // Learns from one call: count() said `estimated`, the provider billed `billed` input tokens.
    void calibrate(std::uint64_t estimated, std::uint64_t billed) const noexcept
    {
        if (estimated == 0 || billed == 0)
            return;
        const double f = factor();
        const double exact = f * static_cast<double>(billed) / static_cast<double>(estimated);
        factor_->store(std::clamp(f + (exact - f) / 10, 0.25, 4.0), std::memory_order_relaxed);
    }

    double factor() const noexcept { return factor_->load(std::memory_order_relaxed); }

private:
    std::shared_ptr<std::atomic<double>> factor_ = std::make_shared<std::atomic<double>>(1.0);
};

// A bound on the text no BPE tokenizer exceeds: no token is shorter than one byte, so a text has
// at most as many tokens as bytes. Reservations made with it are not short for OpenAI-style
// billing, at the price of holding about four times what English text uses; a provider that
// adds a hidden prompt of its own (Anthropic's tool use) bills more than the request's text.
struct upper_bound {
    static std::uint64_t count(const request& r) noexcept
    {
        std::uint64_t bytes = 0;
        const auto framing = visit_billed_text(r, [&](const std::string& text) { bytes += text.size(); });
        return bytes + framing;
    }
};

static_assert(token_counter<estimator> && token_counter<upper_bound>);

} // namespace llm::token
