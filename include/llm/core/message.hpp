// One turn of a conversation: system instructions, user input, the assistant's answer
// (text and tool calls) or the results of tools the assistant asked for.
#pragma once

#include <string> // text
#include <vector> // tool_calls, tool_results

namespace llm {

enum class role { system, user, assistant, tool };

// A call the assistant asks the application to make.
struct tool_call {
    std::string id;        // the provider's id, echoed back in the matching tool_result
    std::string name;      // the tool's name as declared in request::tools
    std::string arguments; // the arguments as JSON text, exactly as the model wrote them
    // Opaque state the provider attached to the call and wants back with it in the next turn
    // (Gemini's thought signature); empty for most providers.
    std::string signature;

    friend bool operator==(const tool_call&, const tool_call&) = default;
};

// What the application answers to one tool_call.
struct tool_result {
    std::string call_id;   // tool_call::id it answers
    std::string content;   // the tool's output, usually JSON or plain text
    bool is_error = false; // the tool failed; content says why

    friend bool operator==(const tool_result&, const tool_result&) = default;
};

struct message {
    llm::role role = role::user;
    std::string text;
    std::vector<tool_call> tool_calls;     // assistant turns only
    std::vector<tool_result> tool_results; // tool turns only

    friend bool operator==(const message&, const message&) = default;
};

inline message system(std::string text)
{
    return {role::system, std::move(text), {}, {}};
}
// Same signature as the C library's ::system on purpose: after `using namespace llm`, an
// unqualified system("...") is ambiguous, a compile error, instead of running a shell command.
inline message system(const char* text)
{
    return system(std::string(text));
}
inline message user(std::string text)
{
    return {role::user, std::move(text), {}, {}};
}
inline message assistant(std::string text, std::vector<tool_call> calls = {})
{
    return {role::assistant, std::move(text), std::move(calls), {}};
}
inline message tool(std::string call_id, std::string content, bool is_error = false)
{
    return {role::tool, {}, {}, {tool_result{std::move(call_id), std::move(content), is_error}}};
}

} // namespace llm
