// Writes a request body's JSON straight into the string the transport sends: no document tree
// is built, since every provider's request is a fixed shape filled from llm::request.
#pragma once

#include <array>       // the escape table
#include <charconv>    // to_chars
#include <cstdint>     // std::uint64_t
#include <string>      // out
#include <string_view> // values

namespace llm::provider::detail {

// Whether `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
inline bool valid_utf8(std::string_view s) noexcept
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        if (*p < 0x80) {
            ++p;
            continue;
        }
        std::size_t n = 0;
        unsigned lo = 0x80, hi = 0xBF; // the range of the second byte
        if (*p >= 0xC2 && *p <= 0xDF)
            n = 1;
        else if (*p >= 0xE0 && *p <= 0xEF) {
            n = 2;
            lo = *p == 0xE0 ? 0xA0 : 0x80;
            hi = *p == 0xED ? 0x9F : 0xBF;
        } else if (*p >= 0xF0 && *p <= 0xF4) {
            n = 3;
            lo = *p == 0xF0 ? 0x90 : 0x80;
            hi = *p == 0xF4 ? 0x8F : 0xBF;
        } else
            return false;
        if (static_cast<std::size_t>(end - p) <= n || p[1] < lo || p[1] > hi)
            return false;
        for (std::size_t i = 2; i <= n; ++i)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n + 1;
    }
    return true;
}

// Keys and values in order; commas and colons are the writer's business. Text that is not valid
// UTF-8 is written escaped-safe but remembered: a body with it is refused before it is sent.
class json_writer {
public:
    explicit json_writer(std::string& out) : out_(out) {}

    json_writer& begin_object()
    {
        separate();
        out_ += '{';
        comma_ = false;
        return *this;
    }
    json_writer& end_object()
    {
        out_ += '}';
        comma_ = true;
        return *this;
    }
    json_writer& begin_array()
    {
        separate();
        out_ += '[';
        comma_ = false;
        return *this;
    }
    json_writer& end_array()
    {
        out_ += ']';
        comma_ = true;
        return *this;
    }
    // The next member's name; its value follows.
    json_writer& key(std::string_view name)
    {
        separate();
        quoted(name);
        out_ += ':';
        comma_ = false;
        return *this;
    }
    json_writer& string(std::string_view value)
    {
        separate();
        quoted(value);
        comma_ = true;
        return *this;
    }
    json_writer& number(std::uint64_t value)
    {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        return raw(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }
    json_writer& number(double value)
    {
        char digits[32];
        const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        return raw(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }
    json_writer& boolean(bool value) { return raw(value ? "true" : "false"); }
    json_writer& null() { return raw("null"); }
    // JSON text the caller has checked (a tool's schema, a call's arguments).
    json_writer& raw(std::string_view json)
    {
        separate();
        out_ += json;
        comma_ = true;
        return *this;
    }

    // Whether every string written was valid UTF-8.
    bool valid() const noexcept { return valid_; }

private:
    void separate()
    {
        if (comma_)
            out_ += ',';
    }

    // Bytes a JSON string must escape: the control characters, the quote and the backslash.
    static constexpr auto must_escape = [] {
        std::array<bool, 256> table{};
        for (int c = 0; c < 0x20; ++c)
            table[static_cast<std::size_t>(c)] = true;
        table['"'] = table['\\'] = true;
        return table;
    }();

    void quoted(std::string_view s)
    {
        static constexpr char hex[] = "0123456789abcdef";
        out_.reserve(out_.size() + s.size() + 2);
        out_.push_back('"');
        unsigned char seen = 0;     // every byte or'ed: text without a high bit is ASCII, valid UTF-8
        const char* run = s.data(); // start of the bytes that need no escape
        const char* const end = s.data() + s.size();
        for (const char* p = run; p != end; ++p) {
            const auto c = static_cast<unsigned char>(*p);
            seen |= c;
            if (!must_escape[c])
                continue;
            out_.append(run, static_cast<std::size_t>(p - run));
            run = p + 1;
            switch (c) {
            case '"':
                out_.append("\\\"", 2);
                break;
            case '\\':
                out_.append("\\\\", 2);
                break;
            case '\n':
                out_.append("\\n", 2);
                break;
            case '\r':
                out_.append("\\r", 2);
                break;
            case '\t':
                out_.append("\\t", 2);
                break;
            default: {
                const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
                out_.append(escaped, sizeof escaped);
            }
            }
        }
        out_.append(run, static_cast<std::size_t>(end - run));
        out_.push_back('"');
        if ((seen & 0x80) != 0 && !valid_utf8(s))
            valid_ = false;
    }

    std::string& out_;
    bool comma_ = false;
    bool valid_ = true;
};

} // namespace llm::provider::detail
