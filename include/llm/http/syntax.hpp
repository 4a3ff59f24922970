// The character classes of HTTP/1.1 (RFC 9110 §5.6), shared by the writer and the parser.
#pragma once

#include <array>       // the token table
#include <string_view> // the checks

namespace llm::http::syntax {

// tchar: what a header name or a method may contain.
constexpr bool is_token_char(unsigned char c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

// The same as a table, made at compile time: every header name of every response is checked
// against it, one load per character instead of a chain of comparisons.
inline constexpr auto token_chars = [] {
    std::array<bool, 256> table{};
    for (unsigned c = 0; c < 256; ++c)
        table[c] = is_token_char(static_cast<unsigned char>(c));
    return table;
}();

constexpr bool is_token(std::string_view s) noexcept
{
    if (s.empty())
        return false;
    for (char ch : s)
        if (!token_chars[static_cast<unsigned char>(ch)])
            return false;
    return true;
}

// field-value: visible characters, spaces, tabs and obs-text; no CR, LF, NUL or other controls.
constexpr bool is_field_value(std::string_view s) noexcept
{
    for (char ch : s)
        if (const auto c = static_cast<unsigned char>(ch); (c < 0x20 && c != '\t') || c == 0x7F)
            return false;
    return true;
}

constexpr bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

// The value of a hexadecimal digit, or -1.
constexpr int hex_digit(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

constexpr std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace llm::http::syntax
