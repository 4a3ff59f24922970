// Pre-tokenization: the split of text into pieces, each encoded on its own, exactly as the
// encodings' regular expressions split it (tiktoken's pat_str), written out by hand as what
// a backtracking match of each alternative, in order, ends up taking.
//
// cl100k_base:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n]*
//   | \s*[\r\n]+ | \s+(?!\S) | \s+
// o200k_base:
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...|'d)?
//   | [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...|'d)?
//   | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//
// Every character starts some alternative, so the pieces cover the text without gaps. The text
// must be valid UTF-8 (see valid_utf8_prefix).
#pragma once

#include <llm/token/unicode.hpp>

#include <cstddef>     // std::size_t
#include <string_view> // texts

namespace llm::token {

enum class pattern { cl100k, o200k };

namespace detail::split {

struct character {
    char_class kind;
    std::size_t length;
};

struct text {
    const unsigned char* s;
    std::size_t n;

    explicit text(std::string_view t) noexcept : s(reinterpret_cast<const unsigned char*>(t.data())), n(t.size()) {}

    character at(std::size_t i) const noexcept
    {
        if (s[i] < 0x80)
            return {unicode::ascii_classes[s[i]], 1};
        const auto d = decode_valid_utf8(s, i);
        return {class_of(d.c), d.length};
    }

    // Past the run of characters from i that `in` accepts.
    template <class In>
    std::size_t skip(std::size_t i, In in) const noexcept
    {
        while (i < n) {
            const auto c = at(i);
            if (!in(c.kind))
                break;
            i += c.length;
        }
        return i;
    }
};

inline bool letter(char_class k) noexcept
{
    return k == char_class::upper || k == char_class::lower || k == char_class::other_letter;
}
inline bool space(char_class k) noexcept
{
    return k == char_class::space || k == char_class::line_break;
}
inline bool number(char_class k) noexcept
{
    return k == char_class::number;
}
// [^\r\n\p{L}\p{N}]: what may precede a word
inline bool word_prefix(char_class k) noexcept
{
    return k != char_class::line_break && !letter(k) && !number(k);
}
// [^\s\p{L}\p{N}]: punctuation, symbols, marks and the like
inline bool punctuation(char_class k) noexcept
{
    return !space(k) && !letter(k) && !number(k);
}
// o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]
inline bool upper_part(char_class k) noexcept
{
    return k == char_class::upper || k == char_class::other_letter || k == char_class::mark;
}
inline bool lower_part(char_class k) noexcept
{
    return k == char_class::lower || k == char_class::other_letter || k == char_class::mark;
}

// The length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at i, or 0. Case-insensitive as the regex engine
// folds: 's' also matches U+017F LATIN SMALL LETTER LONG S.
inline std::size_t contraction(const text& t, std::size_t i) noexcept
{
    if (i + 1 >= t.n || t.s[i] != '\'')
        return 0;
    const auto lower = [&](std::size_t k) { return k < t.n ? static_cast<unsigned char>(t.s[k] | 0x20) : 0; };
    switch (lower(i + 1)) {
    case 's':
    case 't':
    case 'm':
    case 'd':
        return 2;
    case 'r':
    case 'v':
        return lower(i + 2) == 'e' ? 3 : 0;
    case 'l':
        return lower(i + 2) == 'l' ? 3 : 0;
    default:
        return t.s[i + 1] == 0xC5 && i + 2 < t.n && t.s[i + 2] == 0xBF ? 3 : 0; // ſ
    }
}

// Up to three numbers.
inline std::size_t digits_end(const text& t, std::size_t i) noexcept
{
    for (int count = 0; count < 3 && i < t.n; ++count) {
        const auto c = t.at(i);
        if (!number(c.kind))
            break;
        i += c.length;
    }
    return i;
}

// ' '?[^\s\p{L}\p{N}]+ then line breaks (and, for o200k, slashes); 0 when it does not match.
inline std::size_t punctuation_end(const text& t, std::size_t i, bool slashes) noexcept
{
    std::size_t j = i;
    if (t.s[j] == ' ' && j + 1 < t.n && punctuation(t.at(j + 1).kind))
        ++j;
    if (!punctuation(t.at(j).kind))
        return 0;
    j = t.skip(j, punctuation);
    while (j < t.n && (t.s[j] == '\r' || t.s[j] == '\n' || (slashes && t.s[j] == '/')))
        ++j;
    return j;
}

// From white space at i: \s*[\r\n]+ | \s+(?!\S) | \s+
inline std::size_t space_end(const text& t, std::size_t i) noexcept
{
    std::size_t j = i;
    std::size_t last_break = t.n; // none
    std::size_t last = i;         // where the run's last character starts
    while (j < t.n) {
        const auto c = t.at(j);
        if (!space(c.kind))
            break;
        if (c.kind == char_class::line_break)
            last_break = j;
        last = j;
        j += c.length;
    }
    if (last_break != t.n)
        return last_break + 1; // \s* gives back what follows the last line break
    if (j == t.n || last == i)
        return j; // the whole run: at the end of the text, or one character before a non-space
    return last;  // leave the last space to the word that follows
}

inline std::size_t cl100k_end(const text& t, std::size_t i) noexcept
{
    if (const auto m = contraction(t, i))
        return i + m;
    const auto c = t.at(i);
    if (letter(c.kind))
        return t.skip(i, letter);
    if (word_prefix(c.kind) && i + c.length < t.n && letter(t.at(i + c.length).kind))
        return t.skip(i + c.length, letter);
    if (number(c.kind))
        return digits_end(t, i);
    if (const auto e = punctuation_end(t, i, false))
        return e;
    return space_end(t, i);
}

// o200k's two word alternatives (upper-case then lower-case parts, or upper-case parts then
// optional lower-case ones), each tried with the optional prefix and then without; 0 if neither
// matches.
inline std::size_t o200k_word_end(const text& t, std::size_t i, character first) noexcept
{
    std::size_t starts[2];
    std::size_t count = 0;
    if (word_prefix(first.kind))
        starts[count++] = i + first.length;
    starts[count++] = i;
    // [U]*[W]+: the U run, given back until a W may start (at its end, or at its last W).
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t p = starts[k];
        std::size_t q = p;
        std::size_t last_w = t.n;
        std::size_t last_w_length = 0;
        while (q < t.n) {
            const auto c = t.at(q);
            if (!upper_part(c.kind))
                break;
            if (lower_part(c.kind)) {
                last_w = q;
                last_w_length = c.length;
            }
            q += c.length;
        }
        std::size_t e;
        if (q < t.n && lower_part(t.at(q).kind))
            e = t.skip(q, lower_part);
        else if (last_w != t.n)
            e = last_w + last_w_length;
        else
            continue;
        return e + contraction(t, e);
    }
    // [U]+[W]*
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t p = starts[k];
        const std::size_t q = t.skip(p, upper_part);
        if (q == p)
            continue;
        const std::size_t e = t.skip(q, lower_part);
        return e + contraction(t, e);
    }
    return 0;
}

inline std::size_t o200k_end(const text& t, std::size_t i) noexcept
{
    const auto c = t.at(i);
    if (const auto e = o200k_word_end(t, i, c))
        return e;
    if (number(c.kind))
        return digits_end(t, i);
    if (const auto e = punctuation_end(t, i, true))
        return e;
    return space_end(t, i);
}

} // namespace detail::split

// Calls piece(std::string_view) for each piece of valid UTF-8 `text`, in order.
template <class Piece>
void pretokenize(pattern p, std::string_view text, Piece&& piece)
{
    const detail::split::text t(text);
    std::size_t i = 0;
    while (i < t.n) {
        const std::size_t end = p == pattern::cl100k ? detail::split::cl100k_end(t, i) : detail::split::o200k_end(t, i);
        piece(text.substr(i, end - i));
        i = end;
    }
}

} // namespace llm::token
