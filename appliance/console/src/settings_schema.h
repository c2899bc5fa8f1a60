/*
 * settings_schema.h - the settings the console shows and edits, group by
 * group, with their type and help text. The services remain the judges of
 * what is valid: an edit is checked by `applianced --check` before it is kept.
 */
#ifndef CON_SETTINGS_SCHEMA_H
#define CON_SETTINGS_SCHEMA_H

enum con_stype { CON_S_STRING, CON_S_INT, CON_S_BOOL, CON_S_LIST };

struct con_setting_doc {
    const char *group, *key;
    enum con_stype type;
    const char *help;
};

struct con_group_doc {
    const char *name, *title, *service, *help;
};

extern const struct con_group_doc CON_GROUPS[];
extern const struct con_setting_doc CON_SETTINGS[];

#endif
