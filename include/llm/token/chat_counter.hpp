// token::chat_counter: the input tokens an OpenAI chat request is billed for, counted exactly
// with the model's tokenizer, as a token counter the budgets and rate limits take.
//
// OpenAI bills a chat request as the tokens of its messages in the model's chat format: each
// message costs 3 tokens of framing plus its role and content, and the reply is primed with 3
// more. Tool definitions are rendered into a hidden system text: per function 7 tokens (10 for
// the cl100k_base models), its "name:description", and for each parameter 3 tokens and
// "name:type:description" (enums: 3 per value and the value), plus 12 in all. These are the
// rules of OpenAI's cookbook ("How to count tokens with tiktoken"); the tests check them against
// 93 requests whose billed prompt_tokens were recorded (tests/token/billed_requests.md):
//   - messages only, gpt-3.5-turbo, gpt-4, gpt-4o, gpt-4o-mini, gpt-4.1, gpt-4.5: exact;
//   - o1, o3 and o4 models: within a few tokens (their hidden framing differs slightly);
//   - with tools: half within 3 tokens; nested parameter schemas (objects in objects, arrays
//     of objects), which the cookbook's rule does not describe, and past tool calls and their
//     results, for whose rendering OpenAI publishes no rule, come out up to 30 % under.
// Models of other providers are counted with `fallback_encoding`: an approximation, for which
// token::provider_counter asks the provider instead.
#pragma once

#include <llm/core/request.hpp>
#include <llm/token/counter.hpp>
#include <llm/token/encoding.hpp>

#include <boost/json/parse.hpp> // tool parameters
#include <boost/json/value.hpp>

#include <cstdint>     // counts
#include <optional>    // encodings
#include <string>      // rendered lines
#include <string_view> // model names

namespace llm::token {

// The encoding a model's tokenizer uses: o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and the
// o-series; cl100k_base for gpt-4, gpt-4-turbo and gpt-3.5-turbo; empty for other models.
inline std::string_view encoding_for_model(std::string_view model) noexcept
{
    if (model.starts_with("ft:"))
        model.remove_prefix(3);
    for (const std::string_view p :
         {"gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "gpt-oss"})
        if (model.starts_with(p))
            return "o200k_base";
    for (const std::string_view p : {"gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002"})
        if (model.starts_with(p))
            return "cl100k_base";
    return {};
}

class chat_counter {
public:
    // One encoding or both: a model whose encoding is not loaded is counted with the other one,
    // as is a model no OpenAI encoding covers (o200k_base when both are there).
    explicit chat_counter(encoding first, std::optional<encoding> second = std::nullopt)
    {
        place(std::move(first));
        if (second)
            place(std::move(*second));
    }

    std::uint64_t count(const request& r) const
    {
        const encoding& enc = encoding_of(r.model);
        const bool o200k = enc.name() == "o200k_base";
        std::uint64_t n = 3; // the reply's priming: <|start|>assistant<|message|>
        for (const auto& m : r.messages) {
            n += 3 + enc.count(role_name(m.role)) + enc.count(m.text);
            for (const auto& call : m.tool_calls)
                n += 3 + enc.count(call.name) + enc.count(call.arguments);
            for (const auto& result : m.tool_results)
                n += enc.count(result.content);
        }
        if (!r.tools.empty()) {
            for (const auto& t : r.tools)
                n += function_tokens(enc, t, o200k ? 7 : 10);
            n += 12;
        }
        if (r.tool_choice && !r.tools.empty()) {
            if (r.tool_choice->kind == tool_choice::mode::none)
                n += 1;
            else if (r.tool_choice->kind == tool_choice::mode::tool)
                n += 7 + enc.count(r.tool_choice->name);
        }
        if (r.response_format)
            n += enc.count(r.response_format->schema);
        return n;
    }

    // The encoding count() uses for `model`.
    const encoding& encoding_of(std::string_view model) const
    {
        const auto name = encoding_for_model(model);
        if (name == "o200k_base" && o200k_)
            return *o200k_;
        if (name == "cl100k_base" && cl100k_)
            return *cl100k_;
        return o200k_ ? *o200k_ : *cl100k_;
    }

private:
    void place(encoding e)
    {
        if (e.name() == "o200k_base")
            o200k_ = std::move(e);
        else
            cl100k_ = std::move(e);
    }

    static std::string_view role_name(role r) noexcept
    {
        switch (r) {
        case role::system:
            return "system";
        case role::user:
            return "user";
        case role::assistant:
            return "assistant";
        case role::tool:
            return "tool";
        }
        return "user";
    }

    static std::string_view without_final_period(std::string_view s) noexcept
    {
        if (s.ends_with('.'))
            s.remove_suffix(1);
        return s;
    }

    // One function definition as the cookbook renders it.
    static std::uint64_t function_tokens(const encoding& enc, const tool_definition& t, std::uint64_t init)
    {
        std::uint64_t n = init;
        n += enc.count(t.name + ":" + std::string(without_final_period(t.description)));
        boost::system::error_code ec;
        const auto schema = boost::json::parse(t.parameters, ec);
        const auto* object = ec ? nullptr : schema.if_object();
        const auto* props =
            object && object->if_contains("properties") ? object->at("properties").if_object() : nullptr;
        if (!props || props->empty())
            return n;
        n += 3;
        for (const auto& [key, value] : *props) {
            n += 3;
            const auto* p = value.if_object();
            const auto text = [&](const char* field) -> std::string {
                if (!p || !p->if_contains(field))
                    return {};
                const auto& v = p->at(field);
                return v.is_string() ? std::string(v.as_string()) : std::string();
            };
            if (p && p->if_contains("enum"))
                if (const auto* values = p->at("enum").if_array()) {
                    n -= 3;
                    for (const auto& item : *values) {
                        n += 3;
                        if (item.is_string())
                            n += enc.count(std::string_view(item.as_string()));
                    }
                }
            n += enc.count(std::string(key) + ":" + text("type") + ":" +
                           std::string(without_final_period(text("description"))));
        }
        return n;
    }

    std::optional<encoding> cl100k_;
    std::optional<encoding> o200k_;
};

static_assert(token_counter<chat_counter>);

} // namespace llm::token
