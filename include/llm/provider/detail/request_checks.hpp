// The JSON text a request carries (tool schemas, the structured-output schema, the arguments of
// earlier tool calls) is written into the body as it is, so it is checked first: a typo there
// is the caller's error, named, not a 400 from the provider.
#pragma once

#include <llm/core/error.hpp>
#include <llm/core/request.hpp>
#include <llm/provider/detail/json_reader.hpp>

#include <optional> // nullopt when all is well
#include <string>   // messages

namespace llm::provider::detail {

// Whether `text` is one JSON object.
inline bool is_json_object(std::string_view text)
{
    unsigned char buffer[4096];
    json::monotonic_resource arena(buffer, sizeof buffer);
    std::error_code ec;
    const auto v = json::parse(text, ec, json::storage_ptr(&arena));
    return !ec && v.is_object();
}

// A base URL as configured, without the slashes it may end in: paths are appended to it.
inline std::string without_trailing_slashes(std::string url)
{
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    return url;
}

inline std::optional<error> check_json_fields(const request& r)
{
    for (const auto& t : r.tools)
        if (!is_json_object(t.parameters))
            return error{errc::bad_request, "tool '" + t.name + "': parameters is not a JSON object (a JSON Schema)"};
    if (r.response_format && !is_json_object(r.response_format->schema))
        return error{errc::bad_request, "request.response_format.schema is not a JSON object (a JSON Schema)"};
    for (const auto& m : r.messages)
        for (const auto& call : m.tool_calls)
            if (!call.arguments.empty() && !is_json_object(call.arguments))
                return error{errc::bad_request, "the arguments of tool call '" + call.id + "' are not a JSON object"};
    return std::nullopt;
}

} // namespace llm::provider::detail
