// Reading providers' JSON with Boost.JSON: parsing into a per-call arena, and the few accessors
// every decoder needs, which return nothing instead of throwing on a missing or mistyped field.
#pragma once

#include <llm/core/error.hpp>
#include <llm/core/result.hpp>
#include <llm/provider/detail/http_errors.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>       // floor
#include <cstdint>     // std::uint64_t
#include <optional>    // count
#include <string>      // messages
#include <string_view> // keys
#include <vector>      // floats

namespace llm::provider::detail {

namespace json = boost::json;

// A malformed answer: the provider's name, then what was wrong and where.
inline error malformed(std::string_view provider, std::string_view what)
{
    std::string message(provider);
    message += ": ";
    message += what;
    return {errc::malformed_response, std::move(message)};
}

// Parses `text` into `arena`'s memory; `what` names the text in the error ("the response body").
inline std::optional<error> parse_into(json::value& out, std::string_view text, json::monotonic_resource& arena,
                                       std::string_view provider, std::string_view what)
{
    std::error_code ec;
    json::parse_options options;
    options.max_depth = 64;
    out = json::parse(text, ec, json::storage_ptr(&arena), options);
    if (ec)
        return malformed(provider, std::string(what) + " is not valid JSON (" + ec.message() + ")");
    return std::nullopt;
}

// The member `key` of `v` if `v` is an object that has it.
inline const json::value* member(const json::value* v, std::string_view key) noexcept
{
    if (!v)
        return nullptr;
    const auto* object = v->if_object();
    return object ? object->if_contains(key) : nullptr;
}

// The member `key` of `v` if it is an array, else nullptr.
inline const json::array* array_at(const json::value* v, std::string_view key) noexcept
{
    const auto* m = member(v, key);
    return m ? m->if_array() : nullptr;
}

// The string member `key`, or empty when it is missing, null or not a string.
inline std::string_view text_at(const json::value* v, std::string_view key) noexcept
{
    const auto* m = member(v, key);
    if (!m)
        return {};
    const auto* s = m->if_string();
    return s ? std::string_view(*s) : std::string_view{};
}

// A count: a non-negative integer, also when written as 12.0; nullopt when missing or not one.
inline std::optional<std::uint64_t> count_at(const json::value* v, std::string_view key) noexcept
{
    const auto* m = member(v, key);
    if (!m)
        return std::nullopt;
    if (const auto* u = m->if_uint64())
        return *u;
    if (const auto* i = m->if_int64())
        return *i >= 0 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(*i)) : std::nullopt;
    if (const auto* d = m->if_double())
        if (*d >= 0 && *d < 1.8e19 && std::floor(*d) == *d)
            return static_cast<std::uint64_t>(*d);
    return std::nullopt;
}

inline bool flag_at(const json::value* v, std::string_view key) noexcept
{
    const auto* m = member(v, key);
    return m && m->is_bool() && m->get_bool();
}

// Reads the fields an answer is made of, treating a missing or null field as empty but
// remembering the first one of the wrong type (a number where text belongs, text where a count
// belongs): the decoder reports that field, never an answer silently left empty.
class typed_fields {
public:
    explicit typed_fields(std::string_view provider) : provider_(provider) {}

    // The string member `key`: empty when missing or null.
    std::string_view text(const json::value* v, std::string_view key)
    {
        const auto* m = member(v, key);
        if (!m || m->is_null())
            return {};
        if (const auto* s = m->if_string())
            return *s;
        wrong(key, "a string");
        return {};
    }

    // The count member `key`: `fallback` when missing or null.
    std::uint64_t count(const json::value* v, std::string_view key, std::uint64_t fallback = 0)
    {
        const auto* m = member(v, key);
        if (!m || m->is_null())
            return fallback;
        if (auto n = count_at(v, key))
            return *n;
        wrong(key, "a non-negative integer");
        return fallback;
    }

    // The first field of the wrong type, if any.
    const std::optional<error>& failure() const noexcept { return failure_; }

private:
    void wrong(std::string_view key, std::string_view expected)
    {
        if (!failure_)
            failure_ = malformed(provider_, "the field \"" + std::string(key) + "\" is not " + std::string(expected));
    }

    std::string_view provider_;
    std::optional<error> failure_;
};

// The numbers of `values` as floats; an error names the first that is not a number.
inline std::optional<error> floats(const json::array& values, std::vector<float>& out, std::string_view provider)
{
    out.clear();
    out.reserve(values.size());
    for (const auto& v : values) {
        if (const auto* d = v.if_double())
            out.push_back(static_cast<float>(*d));
        else if (const auto* i = v.if_int64())
            out.push_back(static_cast<float>(*i));
        else if (const auto* u = v.if_uint64())
            out.push_back(static_cast<float>(*u));
        else
            return malformed(provider, "an embedding holds a value that is not a number");
    }
    return std::nullopt;
}

// The start of a body that is not JSON (an HTML page from a proxy, say), for an error message:
// at most 200 bytes, control characters shown as spaces.
inline std::string body_excerpt(std::string_view body)
{
    std::string out = "the error body is not JSON";
    if (body.empty())
        return out + " (it is empty)";
    out += ": ";
    const auto shown = body.substr(0, 200);
    for (char c : shown)
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    if (shown.size() < body.size())
        out += "...";
    return out;
}

// The error a failed answer's body describes: `read(body)` reads the provider's JSON error; a
// body that is not JSON (a proxy's HTML page, say) is described by its start.
template <class Read>
error error_from_body(const http::response& answer, std::string_view provider, Read read)
{
    unsigned char buffer[8192];
    json::monotonic_resource arena(buffer, sizeof buffer);
    json::value body;
    if (parse_into(body, answer.body, arena, provider, "the error body"))
        return http_error(answer, provider, {}, body_excerpt(answer.body));
    return read(body);
}

// The count a token-counting endpoint answers under `field`, or the error it reports
// (`error_of(answer)` reads a failed answer).
template <class ErrorOf>
result<std::uint64_t> count_answer(const http::response& answer, std::string_view provider, std::string_view field,
                                   ErrorOf error_of)
{
    if (answer.status < 200 || answer.status > 299)
        return error_of(answer);
    unsigned char buffer[2048];
    json::monotonic_resource arena(buffer, sizeof buffer);
    json::value v;
    if (auto bad = parse_into(v, answer.body, arena, provider, "the token count answer"))
        return *bad;
    const auto n = count_at(&v, field);
    if (!n)
        return malformed(provider, "the token count answer has no " + std::string(field));
    return *n;
}

} // namespace llm::provider::detail
