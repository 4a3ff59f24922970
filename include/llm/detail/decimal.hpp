// A decimal number as HTTP headers write them: ASCII digits and nothing else (no sign, no spaces),
// at most 19 of them after any leading zeros, so that it always fits std::uint64_t.
#pragma once

#include <cstdint>     // std::uint64_t
#include <optional>    // nothing when it is not one
#include <string_view> // text

namespace llm::detail {

constexpr std::optional<std::uint64_t> decimal(std::string_view text) noexcept
{
    if (text.empty())
        return std::nullopt;
    std::uint64_t n = 0;
    std::size_t significant = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        if ((n != 0 || c != '0') && ++significant > 19)
            return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

} // namespace llm::detail
