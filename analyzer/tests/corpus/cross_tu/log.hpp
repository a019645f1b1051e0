// Helpers defined in log.cpp, called from coroutines in server.cpp: the transitive analysis links the two
// translation units through the summaries of the map step.
#pragma once

void open_log(const char* path);
int parse_config(const char* text);
