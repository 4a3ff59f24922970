// What the transport needs to know about the executor behind an any_io_executor: the
// io_context it runs on, if any, and whether the calling thread is running it.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

#include <optional>
#include <typeinfo>

namespace llm::transport::detail {

using io_executor = asio::io_context::executor_type;

// The io_context behind an executor: its own, or a strand's on it. (Asio 1.22's target<T>()
// does not check the type it is asked for, so the type is compared first.)
inline std::optional<io_executor> io_context_of(const asio::any_io_executor& ex)
{
#if defined(ASIO_NO_TYPEID) // built without RTTI: unknown
    (void)ex;
#else
    if (ex.target_type() == typeid(io_executor))
        return *ex.target<io_executor>();
    if (ex.target_type() == typeid(asio::strand<io_executor>))
        return ex.target<asio::strand<io_executor>>()->get_inner_executor();
#endif
    return std::nullopt;
}

// Whether the calling thread runs `ex` now (an io_context's executor, or a strand of any
// executor), so that work meant for it may be done at once. asio::dispatch would find out too,
// but only after wrapping the work in a type-erased function, which costs more than the check.
// False when it cannot tell.
inline bool running_in_this_thread(const asio::any_io_executor& ex) noexcept
{
#if !defined(ASIO_NO_TYPEID)
    if (ex.target_type() == typeid(io_executor))
        return ex.target<io_executor>()->running_in_this_thread();
    if (ex.target_type() == typeid(asio::strand<asio::any_io_executor>))
        return ex.target<asio::strand<asio::any_io_executor>>()->running_in_this_thread();
    if (ex.target_type() == typeid(asio::strand<io_executor>))
        return ex.target<asio::strand<io_executor>>()->running_in_this_thread();
#endif
    (void)ex;
    return false;
}

} // namespace llm::transport::detail
