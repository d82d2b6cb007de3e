/*
 * paint.h — pieces shared by the drawing files (draw.c: the frame, the Overview,
 * Probes, Verify, help; draw_server.c: one server's Connections, Counters and
 * Events), in paint.c.  Everything here reads; nothing changes the ui or the model.
 */
#ifndef IOLAB_VIEW_PAINT_H
#define IOLAB_VIEW_PAINT_H

#include <stdbool.h>

#include "viewer/crt.h"
#include "viewer/layout.h"
#include "viewer/sample.h"
#include "viewer/ui.h"

/* Column i of a layout: text aligned in it (it fits: cells are never wider than their column). */
void paint_cell(int y, const struct layout *l, int i, enum crt_role role, const char *text);
/* The header line of a table; the sorted column (key) gets an arrow. */
void paint_header(int y, const struct ui *u, const struct layout *l, int sorted, bool desc);
/* Was a note added in the last NOTE_SHOW_NS (20 s)?  The status line shows it then. */
bool paint_recent_note(const struct sampler *s);
/* The status line: text, or else the newest note if it is recent. */
void paint_status(const struct ui *u, const struct sampler *s, const char *text, enum crt_role role);
/* Lines 1-2 of a server's detail views: who it is, its headline figures. */
void paint_server_info(const struct ui *u, const struct seg *g);

#endif
