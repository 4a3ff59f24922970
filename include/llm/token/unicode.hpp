// What the tokenizers' pre-tokenization patterns need to know of a character: its class (letter
// of which case, mark, number, white space, line break, other), from tables generated from the
// Unicode Character Database of the Unicode version tiktoken uses (16.0.0; see
// scripts/generate-unicode-tables), and UTF-8 decoding that agrees with Rust's str on what is
// valid, since tiktoken splits only valid text.
#pragma once

#include <array>       // the ASCII table
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint8_t
#include <string_view> // texts

namespace llm::token {

// Exclusive classes: White_Space characters are neither letters, marks nor numbers.
enum class char_class : std::uint8_t {
    other = 0,        // punctuation, symbols, controls, unassigned
    upper = 1,        // Lu, Lt
    lower = 2,        // Ll
    other_letter = 3, // Lm, Lo
    mark = 4,         // Mn, Mc, Me
    number = 5,       // Nd, Nl, No
    space = 6,        // White_Space, except CR and LF
    line_break = 7,   // CR, LF
};

namespace detail::unicode {
#include <llm/token/detail/unicode_classes.inc>

inline constexpr std::array<char_class, 128> ascii_classes = [] {
    std::array<char_class, 128> out{};
    for (std::size_t c = 0; c < 128; ++c)
        out[c] = static_cast<char_class>(class_rows[c] - '0'); // ASCII is the first row
    return out;
}();
} // namespace detail::unicode

inline char_class class_of(char32_t c) noexcept
{
    using namespace detail::unicode;
    if (c < 128)
        return ascii_classes[c];
    if (c >= 0x110000)
        return char_class::other;
    const auto row = class_row_of_block[c >> 8];
    return static_cast<char_class>(class_rows[row * 256u + (c & 0xff)] - '0');
}

inline const char* unicode_version() noexcept
{
    return detail::unicode::unicode_version;
}

// The length of the longest prefix of `text` that is valid UTF-8 (no overlong forms, no
// surrogates, nothing past U+10FFFF), as Rust's std::str::from_utf8 reports it.
inline std::size_t valid_utf8_prefix(std::string_view text) noexcept
{
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        // Eight ASCII bytes at a time, the common case.
        while (i + 8 <= n) {
            std::uint64_t word = 0;
            for (std::size_t k = 0; k < 8; ++k)
                word |= static_cast<std::uint64_t>(s[i + k]) << (8 * k);
            if (word & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        const unsigned char b = s[i];
        if (b < 0x80) {
            ++i;
            continue;
        }
        const auto cont = [&](std::size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
        if (b >= 0xC2 && b <= 0xDF) {
            if (!cont(1))
                return i;
            i += 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            if (i + 1 >= n)
                return i;
            const unsigned char b1 = s[i + 1];
            const bool ok = b == 0xE0   ? (b1 >= 0xA0 && b1 <= 0xBF)
                            : b == 0xED ? (b1 >= 0x80 && b1 <= 0x9F)
                                        : (b1 & 0xC0) == 0x80;
            if (!ok || !cont(2))
                return i;
            i += 3;
        } else if (b >= 0xF0 && b <= 0xF4) {
            if (i + 1 >= n)
                return i;
            const unsigned char b1 = s[i + 1];
            const bool ok = b == 0xF0   ? (b1 >= 0x90 && b1 <= 0xBF)
                            : b == 0xF4 ? (b1 >= 0x80 && b1 <= 0x8F)
                                        : (b1 & 0xC0) == 0x80;
            if (!ok || !cont(2) || !cont(3))
                return i;
            i += 4;
        } else {
            return i;
        }
    }
    return n;
}

// The character at s[i] of valid UTF-8, and its length in bytes.
struct decoded {
    char32_t c;
    std::size_t length;
};

inline decoded decode_valid_utf8(const unsigned char* s, std::size_t i) noexcept
{
    const unsigned char b = s[i];
    if (b < 0x80)
        return {b, 1};
    if (b < 0xE0)
        return {static_cast<char32_t>(((b & 0x1F) << 6) | (s[i + 1] & 0x3F)), 2};
    if (b < 0xF0)
        return {static_cast<char32_t>(((b & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F)), 3};
    return {static_cast<char32_t>(((b & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) |
                                  (s[i + 3] & 0x3F)),
            4};
}

} // namespace llm::token
