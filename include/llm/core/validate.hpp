// The guard stage's first check: refuse a request no provider could accept, before any
// budget, rate limit or network is spent on it.
#pragma once

#include <llm/core/error.hpp>
#include <llm/core/request.hpp>

#include <optional> // nullopt on success

namespace llm {

inline std::optional<error> validate(const request& r)
{
    auto bad = [](const char* why) { return error{errc::bad_request, why}; };
    if (r.messages.empty())
        return bad("request.messages is empty: add at least one user message");
    if (r.max_tokens && *r.max_tokens == 0)
        return bad("request.max_tokens is 0: leave it unset or allow at least one token");
    if (r.temperature && !(*r.temperature >= 0.0 && *r.temperature <= 2.0))
        return bad("request.temperature must be between 0 and 2");
    if (r.top_p && !(*r.top_p > 0.0 && *r.top_p <= 1.0))
        return bad("request.top_p must be greater than 0 and at most 1");
    for (const auto& m : r.messages) {
        if (m.role == role::tool && m.tool_results.empty())
            return bad("a tool message carries no tool_results: build it with llm::tool(call_id, content)");
        for (const auto& t : m.tool_results)
            if (t.call_id.empty())
                return bad("a tool_result has an empty call_id: copy the id of the tool_call it answers");
        if (m.role != role::assistant && !m.tool_calls.empty())
            return bad("only assistant messages may carry tool_calls");
    }
    for (const auto& t : r.tools)
        if (t.name.empty())
            return bad("a tool definition has an empty name");
    if (r.tool_choice && r.tool_choice->kind == tool_choice::mode::tool) {
        bool declared = false;
        for (const auto& t : r.tools)
            declared = declared || t.name == r.tool_choice->name;
        if (!declared)
            return bad("request.tool_choice names a tool that request.tools does not declare");
    }
    if (r.tool_choice && r.tool_choice->kind == tool_choice::mode::required && r.tools.empty())
        return bad("request.tool_choice requires a tool call, but request.tools is empty");
    if (r.response_format && r.response_format->schema.empty())
        return bad("request.response_format has an empty schema: give the JSON Schema the answer must follow");
    return std::nullopt;
}

} // namespace llm
