// Token usage of one call, the same meaning on every provider.
#pragma once

#include <cstdint> // std::uint64_t

namespace llm {

struct usage {
    std::uint64_t input_tokens = 0;        // prompt tokens billed, cached ones included
    std::uint64_t output_tokens = 0;       // completion tokens, reasoning included
    std::uint64_t cached_input_tokens = 0; // part of input_tokens served from the provider's prompt cache

    constexpr std::uint64_t total() const noexcept { return input_tokens + output_tokens; }

    constexpr usage& operator+=(const usage& other) noexcept
    {
        input_tokens += other.input_tokens;
        output_tokens += other.output_tokens;
        cached_input_tokens += other.cached_input_tokens;
        return *this;
    }

    friend constexpr bool operator==(const usage&, const usage&) = default;
};

} // namespace llm
