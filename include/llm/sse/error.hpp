// Errors of the event-stream parser, in their own category ("llm.sse").
#pragma once

#include <string>       // message
#include <system_error> // error_category

namespace llm::sse {

enum class errc {
    // One event (its data, or a single line) grew beyond the parser's max_event_bytes.
    // The stream is not an event stream, or the limit is too low for it: raise the limit.
    event_too_large = 1,
};

namespace detail {
class error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "llm.sse"; }
    std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::event_too_large:
            return "server-sent event larger than the parser's limit (max_event_bytes): raise it if the stream is "
                   "legitimate";
        }
        return "unknown llm.sse error";
    }
    std::error_condition default_error_condition(int value) const noexcept override
    {
        if (static_cast<errc>(value) == errc::event_too_large)
            return std::errc::message_size;
        return {value, *this};
    }
};
} // namespace detail

inline const std::error_category& error_category() noexcept
{
    static const detail::error_category instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

} // namespace llm::sse

template <>
struct std::is_error_code_enum<llm::sse::errc> : std::true_type {
};
