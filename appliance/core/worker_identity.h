// Worker identity: how an order names the process that works on it, and how a later process
// tells whether that worker is still alive.
//
// A worker is "pid:<pid>:<start>", where <start> is the process's start time in clock ticks
// since boot (/proc/<pid>/stat, field 22). A pid alone is not enough: after a crash the kernel
// may hand the same pid to an unrelated process, whose start time then differs. Linux only.
// Plain functions; thread-safe.
#pragma once

#include <sys/types.h>
#include <optional>
#include <string>
#include <string_view>

namespace signet::appliance {

// The start time (field 22 of /proc/<pid>/stat) of a running process; nullopt when there is
// no such process, it is a zombie, or its stat cannot be read.
std::optional<unsigned long long> process_start_time(pid_t pid);

// "pid:<pid>:<start>" of the calling process.
std::string current_worker();

// True when `worker` names a process that is running now: the pid exists and its start time
// is the recorded one. False for a dead or reused pid, and for a string not of this form.
bool worker_alive(std::string_view worker);

}  // namespace signet::appliance
