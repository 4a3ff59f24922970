// llm::provider::anthropic: Anthropic's Messages API.
//
//   llm::client<llm::transport::https, llm::provider::anthropic> ai(io.get_executor());
//   // the key from ANTHROPIC_API_KEY, the base URL from ANTHROPIC_BASE_URL (or api.anthropic.com)
//
// The system turns are lifted out of the messages into `system`; consecutive turns of one role
// are merged (tool results travel as a user turn); max_tokens is always sent (Anthropic requires
// it); with anthropic_config::cache_system the system prompt is marked for prompt caching.
#pragma once

#include <llm/core/chunk.hpp>
#include <llm/core/request.hpp>
#include <llm/core/response.hpp>
#include <llm/core/result.hpp>
#include <llm/http/message.hpp>
#include <llm/provider/detail/event_stream.hpp>
#include <llm/provider/detail/http_errors.hpp>
#include <llm/provider/detail/json_reader.hpp>
#include <llm/provider/detail/json_writer.hpp>
#include <llm/provider/detail/request_checks.hpp>
#include <llm/provider/detail/tool_calls.hpp>

#include <cstdint>     // std::uint32_t
#include <cstdlib>     // std::getenv
#include <optional>    // a failure
#include <string>      // config
#include <string_view> // names
#include <vector>      // blocks

namespace llm::provider {

struct anthropic_config {
    std::string api_key;                                // sent as x-api-key; never logged
    std::string base_url = "https://api.anthropic.com"; // up to, not including, /v1/messages
    std::string version = "2023-06-01";                 // anthropic-version
    std::uint32_t default_max_tokens = 4096;            // when the request sets none (the API requires one)
    bool cache_system = false;                          // mark the system prompt with cache_control
    std::vector<std::string> beta;                      // anthropic-beta values, if any

    // ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL, as Anthropic's SDKs read them.
    static anthropic_config from_environment()
    {
        anthropic_config c;
        if (const char* key = std::getenv("ANTHROPIC_API_KEY"))
            c.api_key = key;
        if (const char* url = std::getenv("ANTHROPIC_BASE_URL"); url && *url)
            c.base_url = url;
        return c;
    }
};

namespace detail {

inline finish_reason anthropic_finish(std::string_view reason) noexcept
{
    if (reason == "end_turn" || reason == "stop_sequence")
        return finish_reason::stop;
    if (reason == "max_tokens" || reason == "model_context_window_exceeded")
        return finish_reason::length;
    if (reason == "tool_use")
        return finish_reason::tool_calls;
    if (reason == "refusal")
        return finish_reason::content_filter;
    return finish_reason::other; // pause_turn, and whatever comes next
}

// Anthropic counts the uncached input, the input written to the cache and the input read from
// it apart; llm::usage's input is all three, the part read from the cache its cached share.
struct anthropic_input {
    std::uint64_t uncached = 0, written = 0, read = 0;

    void update(const json::value* u, typed_fields& f)
    {
        uncached = f.count(u, "input_tokens", uncached);
        written = f.count(u, "cache_creation_input_tokens", written);
        read = f.count(u, "cache_read_input_tokens", read);
    }
    usage with_output(std::uint64_t output) const { return {uncached + written + read, output, read}; }
};

inline error anthropic_error(const http::response& answer)
{
    return error_from_body(answer, "anthropic", [&](const json::value& body) {
        const auto* e = member(&body, "error");
        return http_error(answer, "anthropic", text_at(e, "type"), text_at(e, "message"));
    });
}

// One event of a Messages stream. The event's kind is read from its JSON's "type" (the event:
// line says the same, and some proxies leave it out).
class anthropic_events {
public:
    static constexpr std::string_view terminal = "message_stop";

    bool finished() const noexcept { return done_; }

    std::optional<error> on_event(const sse::event& e, std::vector<chunk>& out)
    {
        unsigned char buffer[8192];
        json::monotonic_resource arena(buffer, sizeof buffer);
        json::value v;
        if (auto bad = parse_into(v, e.data, arena, "anthropic", "a stream event"))
            return bad;
        if (!v.is_object())
            return malformed("anthropic", "a stream event is not a JSON object");
        std::string_view type = text_at(&v, "type");
        if (type.empty())
            type = e.type;
        typed_fields f("anthropic");
        std::optional<error> bad;
        if (type == "message_start")
            bad = message_start(v, out, f);
        else if (type == "content_block_start")
            bad = block_start(v, out, f);
        else if (type == "content_block_delta")
            bad = block_delta(v, out, f);
        else if (type == "content_block_stop")
            bad = block_stop(v, out);
        else if (type == "message_delta")
            bad = message_delta(v, out, f);
        if (bad || f.failure())
            return bad ? bad : f.failure();
        if (type == "message_stop")
            done_ = true;
        else if (type == "error") {
            const auto* failure = member(&v, "error");
            error err{errc_for_type(text_at(failure, "type")),
                      "anthropic: " + std::string(text_at(failure, "message"))};
            err.provider_type = std::string(text_at(failure, "type"));
            return err;
        }
        return std::nullopt; // ping, and event types added later, are ignored as the API asks
    }

private:
    enum class kind { text, tool, other };
    struct block {
        std::uint64_t index;
        kind what;
        std::size_t call; // the dense tool-call index, for tools
        bool has_arguments = false;
    };

    std::optional<error> message_start(const json::value& v, std::vector<chunk>& out, typed_fields& f)
    {
        const auto* message = member(&v, "message");
        if (!message)
            return malformed("anthropic", "message_start has no message");
        const auto* u = member(message, "usage");
        input_.update(u, f);
        output_ = f.count(u, "output_tokens");
        out.push_back(chunk{.usage = input_.with_output(output_)}); // input is known from the start
        return std::nullopt;
    }

    std::optional<error> block_start(const json::value& v, std::vector<chunk>& out, typed_fields& f)
    {
        const auto index = count_at(&v, "index");
        const auto* content = member(&v, "content_block");
        if (!index || !content)
            return malformed("anthropic", "content_block_start has no index or content_block");
        const auto type = text_at(content, "type");
        block b{*index, kind::other, 0};
        if (type == "text") {
            b.what = kind::text;
            if (const auto text = f.text(content, "text"); !text.empty())
                out.push_back(chunk{.text = std::string(text)});
        } else if (type == "tool_use") {
            b.what = kind::tool;
            b.call = calls_.of(*index, {});
            out.push_back(chunk{.tool_calls = {{.index = b.call,
                                                .id = std::string(f.text(content, "id")),
                                                .name = std::string(f.text(content, "name"))}}});
        }
        blocks_.push_back(b);
        return std::nullopt;
    }

    std::optional<error> block_delta(const json::value& v, std::vector<chunk>& out, typed_fields& f)
    {
        block* b = find(count_at(&v, "index"));
        const auto* delta = member(&v, "delta");
        if (!b || !delta)
            return malformed("anthropic", "content_block_delta for a block that never started");
        const auto type = text_at(delta, "type");
        if (type == "text_delta" && b->what == kind::text) {
            if (const auto text = f.text(delta, "text"); !text.empty())
                out.push_back(chunk{.text = std::string(text)});
        } else if (type == "input_json_delta" && b->what == kind::tool) {
            if (const auto piece = f.text(delta, "partial_json"); !piece.empty()) {
                b->has_arguments = true;
                out.push_back(chunk{.tool_calls = {{.index = b->call, .arguments = std::string(piece)}}});
            }
        }
        return std::nullopt; // thinking, signatures, citations: not part of the answer's text
    }

    std::optional<error> block_stop(const json::value& v, std::vector<chunk>& out)
    {
        block* b = find(count_at(&v, "index"));
        if (b && b->what == kind::tool && !b->has_arguments) // a call without arguments: still JSON
            out.push_back(chunk{.tool_calls = {{.index = b->call, .arguments = "{}"}}});
        return std::nullopt;
    }

    std::optional<error> message_delta(const json::value& v, std::vector<chunk>& out, typed_fields& f)
    {
        chunk c;
        if (const auto reason = f.text(member(&v, "delta"), "stop_reason"); !reason.empty())
            c.finish_reason = anthropic_finish(reason);
        if (const auto* u = member(&v, "usage")) { // cumulative, as the API documents
            input_.update(u, f);
            output_ = f.count(u, "output_tokens", output_);
            c.usage = input_.with_output(output_);
        }
        if (c.finish_reason || c.usage)
            out.push_back(std::move(c));
        return std::nullopt;
    }

    block* find(std::optional<std::uint64_t> index)
    {
        if (index)
            for (auto& b : blocks_)
                if (b.index == *index)
                    return &b;
        return nullptr;
    }

    std::vector<block> blocks_;
    call_indices calls_;
    anthropic_input input_;
    std::uint64_t output_ = 0;
    bool done_ = false;
};

} // namespace detail

class anthropic {
public:
    using config_type = anthropic_config;
    using stream_decoder = detail::event_stream<detail::anthropic_events>;

    anthropic() : anthropic(anthropic_config::from_environment()) {}
    explicit anthropic(anthropic_config c) : config_(std::move(c))
    {
        config_.base_url = detail::without_trailing_slashes(std::move(config_.base_url));
    }

    const anthropic_config& config() const noexcept { return config_; }

    result<http::request> encode(const request& r) const { return encode_messages(r, call::complete); }
    result<http::request> encode_stream(const request& r) const { return encode_messages(r, call::stream); }

    // POST /v1/messages/count_tokens: the input tokens the request would be billed, counted by
    // Anthropic (its tokenizer is not public). What only shapes the answer (max_tokens,
    // sampling, stop sequences, the output format) is left out, as the endpoint accepts only
    // what makes up the prompt.
    result<http::request> encode_count(const request& r) const { return encode_messages(r, call::count); }

    // The count from count_tokens' answer ({"input_tokens": n}), or the error it reports.
    result<std::uint64_t> decode_count(const http::response& answer) const
    {
        return detail::count_answer(answer, "anthropic", "input_tokens", detail::anthropic_error);
    }

    result<response> decode(const http::response& answer) const
    {
        if (answer.status < 200 || answer.status > 299)
            return detail::anthropic_error(answer);
        unsigned char buffer[16384];
        detail::json::monotonic_resource arena(buffer, sizeof buffer);
        detail::json::value v;
        if (auto bad = detail::parse_into(v, answer.body, arena, "anthropic", "the response body"))
            return *bad;
        if (detail::text_at(&v, "type") == "error")
            return detail::anthropic_error(answer);
        const auto* content = detail::array_at(&v, "content");
        if (!content)
            return detail::malformed("anthropic", "the answer has no content array");
        detail::typed_fields f("anthropic");
        response out;
        for (const auto& block : *content) {
            const auto type = detail::text_at(&block, "type");
            if (type == "text") {
                out.text += f.text(&block, "text");
            } else if (type == "tool_use") {
                const auto* input = detail::member(&block, "input");
                out.tool_calls.push_back({std::string(f.text(&block, "id")),
                                          std::string(f.text(&block, "name")),
                                          input ? detail::json::serialize(*input) : std::string("{}"),
                                          {}});
            } // thinking, server tools and their results are not the answer's text
        }
        const auto reason = f.text(&v, "stop_reason");
        if (reason.empty() && !f.failure())
            return detail::malformed("anthropic", "the answer has no stop_reason");
        out.finish_reason = detail::anthropic_finish(reason);
        detail::anthropic_input input;
        input.update(detail::member(&v, "usage"), f);
        out.usage = input.with_output(f.count(detail::member(&v, "usage"), "output_tokens"));
        out.model = std::string(f.text(&v, "model"));
        if (f.failure())
            return *f.failure();
        out.rate_limits = detail::rate_limits_of(answer.headers);
        return out;
    }

    stream_decoder decoder() const { return stream_decoder(detail::anthropic_events{}, "anthropic"); }

private:
    enum class call { complete, stream, count };

    result<http::request> encode_messages(const request& r, call kind) const
    {
        const bool stream = kind == call::stream;
        const bool count = kind == call::count;
        if (config_.api_key.empty())
            return error{errc::invalid_configuration,
                         "anthropic: no API key: set ANTHROPIC_API_KEY or anthropic_config::api_key"};
        if (r.model.empty())
            return error{errc::bad_request, "request.model is empty: name the model to call"};
        if (auto bad = detail::check_json_fields(r))
            return *bad;
        http::request out;
        out.url = config_.base_url + (count ? "/v1/messages/count_tokens" : "/v1/messages");
        out.headers.add("Content-Type", "application/json");
        out.headers.add("x-api-key", config_.api_key);
        out.headers.add("anthropic-version", config_.version);
        for (const auto& beta : config_.beta)
            out.headers.add("anthropic-beta", beta);
        if (stream)
            out.headers.add("Accept", "text/event-stream");
        out.body.reserve(256 + r.messages.size() * 64);
        detail::json_writer w(out.body);
        w.begin_object().key("model").string(r.model);
        if (!count)
            w.key("max_tokens").number(std::uint64_t{r.max_tokens.value_or(config_.default_max_tokens)});
        write_system(w, r);
        if (auto bad = write_turns(w, r))
            return *bad;
        if (count) {
            write_tools(w, r);
            w.end_object();
            if (!w.valid())
                return error{errc::bad_request, "the request holds text that is not valid UTF-8"};
            return out;
        }
        if (r.temperature)
            w.key("temperature").number(*r.temperature);
        if (r.top_p)
            w.key("top_p").number(*r.top_p);
        if (!r.stop.empty()) {
            w.key("stop_sequences").begin_array();
            for (const auto& s : r.stop)
                w.string(s);
            w.end_array();
        }
        write_tools(w, r);
        if (r.response_format) {
            w.key("output_config").begin_object().key("format").begin_object();
            w.key("type").string("json_schema").key("schema").raw(r.response_format->schema);
            w.end_object().end_object();
        }
        if (stream)
            w.key("stream").boolean(true);
        w.end_object();
        if (!w.valid())
            return error{errc::bad_request, "the request holds text that is not valid UTF-8"};
        return out;
    }

    static void write_tools(detail::json_writer& w, const request& r)
    {
        if (!r.tools.empty()) {
            w.key("tools").begin_array();
            for (const auto& t : r.tools) {
                w.begin_object().key("name").string(t.name);
                if (!t.description.empty())
                    w.key("description").string(t.description);
                w.key("input_schema").raw(t.parameters).end_object();
            }
            w.end_array();
        }
        if (r.tool_choice) {
            static constexpr std::string_view kinds[] = {"auto", "none", "any", "tool"};
            w.key("tool_choice").begin_object().key("type").string(kinds[static_cast<int>(r.tool_choice->kind)]);
            if (r.tool_choice->kind == tool_choice::mode::tool)
                w.key("name").string(r.tool_choice->name);
            w.end_object();
        }
    }

    // The system turns, lifted out of the conversation: one text block each.
    void write_system(detail::json_writer& w, const request& r) const
    {
        std::size_t count = 0, last = 0;
        for (std::size_t i = 0; i < r.messages.size(); ++i)
            if (r.messages[i].role == role::system) {
                ++count;
                last = i;
            }
        if (count == 0)
            return;
        w.key("system").begin_array();
        for (std::size_t i = 0; i < r.messages.size(); ++i) {
            if (r.messages[i].role != role::system)
                continue;
            w.begin_object().key("type").string("text").key("text").string(r.messages[i].text);
            if (config_.cache_system && i == last) // caches everything up to the end of the system prompt
                w.key("cache_control").begin_object().key("type").string("ephemeral").end_object();
            w.end_object();
        }
        w.end_array();
    }

    // The conversation as alternating user and assistant turns: tool results are user content,
    // and consecutive turns of one role are merged into one.
    static std::optional<error> write_turns(detail::json_writer& w, const request& r)
    {
        w.key("messages").begin_array();
        std::optional<bool> open_is_assistant; // the turn being written, if any
        for (const auto& m : r.messages) {
            if (m.role == role::system)
                continue;
            const bool assistant = m.role == role::assistant;
            if (open_is_assistant != assistant) {
                if (open_is_assistant)
                    w.end_array().end_object();
                w.begin_object().key("role").string(assistant ? "assistant" : "user").key("content").begin_array();
                open_is_assistant = assistant;
            }
            for (const auto& result : m.tool_results) {
                w.begin_object().key("type").string("tool_result").key("tool_use_id").string(result.call_id);
                w.key("content").string(result.content);
                if (result.is_error)
                    w.key("is_error").boolean(true);
                w.end_object();
            }
            if (!m.text.empty()) // the API refuses empty text blocks
                w.begin_object().key("type").string("text").key("text").string(m.text).end_object();
            for (const auto& call : m.tool_calls) {
                w.begin_object().key("type").string("tool_use").key("id").string(call.id);
                w.key("name").string(call.name).key("input").raw(call.arguments.empty() ? "{}" : call.arguments);
                w.end_object();
            }
        }
        if (!open_is_assistant)
            return error{errc::bad_request, "anthropic: the request has system turns only; add a user message"};
        w.end_array().end_object().end_array();
        return std::nullopt;
    }

    anthropic_config config_;
};

} // namespace llm::provider
