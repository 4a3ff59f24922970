// The translation unit whose compile time docs/performance.md records: the umbrella header
// and one client instantiated with every operation used. scripts/measure-compile-time
// compiles it from scratch, without ccache.
#include <llm/llm.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

namespace {

struct tiny_transport {
    using executor_type = asio::io_context::executor_type;
    asio::io_context* io;
    executor_type get_executor() const { return io->get_executor(); }

    template <class Handler>
    void async_complete(const llm::request&, Handler&& h)
    {
        asio::post(*io, [h = std::forward<Handler>(h)]() mutable {
            std::move(h)(llm::result<llm::response>{llm::response{}});
        });
    }
    struct upstream {
        asio::io_context* io;
        template <class Handler>
        void async_next(Handler&& h)
        {
            asio::post(*io, [h = std::forward<Handler>(h)]() mutable {
                std::move(h)(llm::result<std::optional<llm::chunk>>{std::nullopt});
            });
        }
        void cancel() {}
    };
    upstream open(const llm::request&) { return {io}; }
};

struct no_op_observer {
    void on_event(const llm::observe::event&) {}
};

} // namespace

int compile_time_probe()
{
    asio::io_context io;
    llm::client<tiny_transport, no_op_observer> ai{tiny_transport{&io}};
    int answered = 0;
    ai.complete(llm::request{.messages = {llm::user("hi")}},
                [&](llm::result<llm::response> r) { answered += r.has_value(); });
    auto s = ai.stream(llm::request{.messages = {llm::user("hi")}});
    s.next([&](llm::result<std::optional<llm::chunk>> c) { answered += c.has_value(); });
    io.run();
    return answered;
}
