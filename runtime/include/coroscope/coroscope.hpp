#pragma once
// coroscope: asyncio's model and names for C++20 coroutines. One header per asyncio concept; this one
// includes them all. docs/asyncio-mapping.md maps every asyncio name to its coroscope spelling.
#include <coroscope/as_completed.hpp>
#include <coroscope/async_with.hpp>
#include <coroscope/event_loop.hpp>
#include <coroscope/exceptions.hpp>
#include <coroscope/executor.hpp>
#include <coroscope/future.hpp>
#include <coroscope/gather.hpp>
#include <coroscope/locks.hpp>
#include <coroscope/outcome.hpp>
#include <coroscope/queues.hpp>
#include <coroscope/run.hpp>
#include <coroscope/server.hpp>
#include <coroscope/shield.hpp>
#include <coroscope/signals.hpp>
#include <coroscope/sleep.hpp>
#include <coroscope/sockets.hpp>
#include <coroscope/streams.hpp>
#include <coroscope/subprocess.hpp>
#include <coroscope/task.hpp>
#include <coroscope/task_group.hpp>
#include <coroscope/timeout.hpp>
#include <coroscope/wait.hpp>
#include <coroscope/wait_for.hpp>
