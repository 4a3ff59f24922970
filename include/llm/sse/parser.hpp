// llm::sse::parser: the WHATWG event-stream format, pushed in pieces as they arrive.
//
//   llm::sse::parser p;
//   auto ec = p.put(bytes, [](const llm::sse::event& e) { ... });   // any split of the stream
//
// Lines end in LF, CR or CRLF (a CRLF split between two pieces is still one line end); a
// leading byte order mark is dropped; `data:` lines are joined with LF; one space after the
// colon is removed; a line without a colon is a field with an empty value; comment lines
// (starting with ':') and unknown fields are ignored; an event is dispatched at a blank line,
// and only if it has data. Bytes after the last blank line never make an event: a stream cut
// short loses its incomplete event, as the specification says.
#pragma once

#include <llm/sse/error.hpp>

#include <chrono>       // retry
#include <cstddef>      // std::size_t
#include <cstring>      // std::memchr
#include <optional>     // retry
#include <string>       // buffers
#include <string_view>  // put
#include <system_error> // error_code

namespace llm::sse {

struct event {
    std::string type = "message";                   // the `event:` field, "message" when absent
    std::string data;                               // the `data:` lines joined with LF
    std::string id;                                 // the last `id:` seen in the stream so far
    std::optional<std::chrono::milliseconds> retry; // a `retry:` field in this event

    friend bool operator==(const event&, const event&) = default;
};

class parser {
public:
    // Default 16 MiB: far above any provider's event (the largest tool-call arguments), far below
    // what a hostile server could make us hold.
    static constexpr std::size_t default_max_event_bytes = std::size_t{16} << 20;

    explicit parser(std::size_t max_event_bytes = default_max_event_bytes) : max_event_bytes_(max_event_bytes)
    {
        current_.type.clear();
    }

    // Parses the next piece of the stream and calls on_event(const event&) for each complete
    // event, in order. After an error the parser is finished: every later put() returns it too.
    template <class OnEvent>
    std::error_code put(std::string_view bytes, OnEvent&& on_event)
    {
        if (failed_)
            return failed_;
        if (at_start_) {
            bytes = skip_bom(bytes);
            if (bytes.empty())
                return {};
        }
        std::size_t i = 0;
        if (after_cr_) {
            after_cr_ = false;
            if (!bytes.empty() && bytes[0] == '\n')
                i = 1; // the LF of a CRLF split between two pieces
        }
        while (i < bytes.size()) {
            const std::size_t end = find_line_end(bytes, i);
            // One rule for every line, ended or not, so the verdict cannot depend on the split:
            // the event so far plus the line so far must fit.
            if (pending_.size() + (end - i) + event_bytes_ > max_event_bytes_)
                return fail(errc::event_too_large);
            if (end == bytes.size()) { // no line end yet: keep the partial line
                pending_.append(bytes.substr(i));
                break;
            }
            if (pending_.empty()) {
                if (auto ec = line(bytes.substr(i, end - i), on_event))
                    return ec;
            } else {
                pending_.append(bytes.substr(i, end - i));
                const auto ec = line(pending_, on_event); // line() never touches pending_
                pending_.clear();
                if (ec)
                    return ec;
            }
            i = end + 1;
            if (bytes[end] == '\r') {
                if (i == bytes.size())
                    after_cr_ = true; // a LF may start the next piece
                else if (bytes[i] == '\n')
                    ++i;
            }
        }
        return {};
    }

    // The stream's body is complete (its HTTP framing said so): the event it ended in, without
    // the blank line that would close it, is dispatched. Providers' SDKs do the same, and some
    // servers end their last event that way; a stream cut short is the transport's error, not
    // this. A line not yet ended counts as ended.
    template <class OnEvent>
    std::error_code finish(OnEvent&& on_event)
    {
        if (failed_)
            return failed_;
        after_cr_ = false;
        if (!pending_.empty()) {
            const auto ec = line(pending_, on_event);
            pending_.clear();
            if (ec)
                return ec;
        }
        return dispatch(on_event);
    }

    // The `id:` of the last event, to send back as Last-Event-ID when reconnecting.
    const std::string& last_event_id() const noexcept { return last_id_; }

private:
    // The first CR or LF at or after `from`. Two memchr passes (vectorised by the C library) beat
    // one byte-by-byte loop by far on real streams, whose lines are long JSON.
    static std::size_t find_line_end(std::string_view bytes, std::size_t from) noexcept
    {
        const char* begin = bytes.data() + from;
        const std::size_t size = bytes.size() - from;
        const void* lf = std::memchr(begin, '\n', size);
        const std::size_t lf_at = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - begin) : size;
        const void* cr = std::memchr(begin, '\r', lf_at);
        const std::size_t end = cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - begin) : lf_at;
        return from + end;
    }

    std::string_view skip_bom(std::string_view bytes)
    {
        static constexpr std::string_view bom = "\xEF\xBB\xBF";
        // The mark may itself arrive split: hold its first bytes until we know.
        while (!bytes.empty() && bom_seen_ < bom.size()) {
            if (bytes[0] != bom[bom_seen_]) {
                at_start_ = false;
                std::string held(bom.substr(0, bom_seen_));
                bom_seen_ = 0;
                pending_ = std::move(held); // not a mark after all: those bytes begin the first line
                return bytes;
            }
            ++bom_seen_;
            bytes.remove_prefix(1);
        }
        if (bom_seen_ == bom.size())
            at_start_ = false;
        return bytes;
    }

    template <class OnEvent>
    std::error_code line(std::string_view text, OnEvent& on_event)
    {
        if (text.empty())
            return dispatch(on_event);
        if (text[0] == ':')
            return {}; // comment
        const auto colon = text.find(':');
        std::string_view field = text.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = text.substr(colon + 1);
            if (!value.empty() && value[0] == ' ')
                value.remove_prefix(1);
        }
        if (field == "data") {
            event_bytes_ += value.size() + 1;
            if (event_bytes_ > max_event_bytes_)
                return fail(errc::event_too_large);
            current_.data.append(value);
            current_.data.push_back('\n');
        } else if (field == "event") {
            current_.type.assign(value);
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos)
                last_id_.assign(value);
        } else if (field == "retry") {
            if (auto ms = digits(value))
                current_.retry = std::chrono::milliseconds(*ms);
        }
        return {};
    }

    template <class OnEvent>
    std::error_code dispatch(OnEvent& on_event)
    {
        if (event_bytes_ == 0) { // no data: nothing to dispatch, only reset
            reset_event();
            return {};
        }
        current_.data.pop_back(); // the LF after the last data line
        if (current_.type.empty())
            current_.type = "message";
        current_.id = last_id_;
        on_event(static_cast<const event&>(current_));
        reset_event();
        return {};
    }

    void reset_event()
    {
        current_.type.clear();
        current_.data.clear();
        current_.retry.reset();
        event_bytes_ = 0;
    }

    static std::optional<long long> digits(std::string_view v) noexcept
    {
        if (v.empty() || v.size() > 18)
            return std::nullopt;
        long long n = 0;
        for (char c : v) {
            if (c < '0' || c > '9')
                return std::nullopt;
            n = n * 10 + (c - '0');
        }
        return n;
    }

    std::error_code fail(errc e) { return failed_ = make_error_code(e); }

    std::size_t max_event_bytes_;
    event current_;               // the event being assembled; an empty type means "message"
    std::size_t event_bytes_ = 0; // its data so far, LFs included
    std::string pending_;         // a line not yet ended
    std::string last_id_;
    bool after_cr_ = false;    // the previous piece ended in CR
    bool at_start_ = true;     // a byte order mark may still come
    std::size_t bom_seen_ = 0; // bytes of it seen so far
    std::error_code failed_;
};

} // namespace llm::sse
