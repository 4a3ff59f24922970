// A provider's stream decoder for server-sent events: body bytes as they arrive, through the
// event-stream parser, to the provider's own event decoder, out as chunks.
#pragma once

#include <llm/core/chunk.hpp>
#include <llm/core/error.hpp>
#include <llm/core/result.hpp>
#include <llm/sse/parser.hpp>

#include <optional>    // a failure
#include <string>      // messages
#include <string_view> // bytes
#include <utility>     // std::move
#include <vector>      // chunks out

namespace llm::provider::detail {

// Events decodes one event: `std::optional<error> on_event(const sse::event&, std::vector<chunk>&)`,
// tells whether the stream's terminal event has come (`bool finished() const`) and names it
// for the error when it never does (`static constexpr std::string_view terminal`).
template <class Events>
class event_stream {
public:
    explicit event_stream(Events events, std::string_view provider) : events_(std::move(events)), provider_(provider) {}

    // Decodes the next piece of the body; appends the chunks it completes to `out`.
    result<void> feed(std::string_view bytes, std::vector<chunk>& out)
    {
        if (failure_)
            return *failure_;
        auto ec = parser_.put(bytes, [&](const sse::event& e) { take(e, out); });
        return settle(ec);
    }

    // The body ended: its last event, and an error if the terminal event never came.
    result<void> finish(std::vector<chunk>& out)
    {
        if (failure_)
            return *failure_;
        if (auto settled = settle(parser_.finish([&](const sse::event& e) { take(e, out); })); !settled)
            return settled;
        if (!events_.finished())
            return fail(error{errc::malformed_response,
                              std::string(provider_) + ": the stream ended before " + std::string(Events::terminal)});
        return success();
    }

private:
    void take(const sse::event& e, std::vector<chunk>& out)
    {
        if (failure_ || events_.finished())
            return; // nothing counts after the end or an error
        if (auto bad = events_.on_event(e, out))
            failure_ = std::move(*bad);
    }

    result<void> settle(std::error_code framing)
    {
        if (framing && !failure_)
            failure_ = error{errc::malformed_response,
                             std::string(provider_) + ": the event stream is malformed (" + framing.message() + ")"};
        if (failure_)
            return *failure_;
        return success();
    }

    result<void> fail(error e)
    {
        failure_ = e;
        return e;
    }

    Events events_;
    std::string_view provider_;
    sse::parser parser_;
    std::optional<error> failure_;
};

} // namespace llm::provider::detail
