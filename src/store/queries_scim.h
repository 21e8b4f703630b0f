/* Queries of users, groups, memberships and SCIM API keys: X(ID, sql, postgres variant or NULL). */
#ifndef TS_STORE_QUERIES_SCIM_H
#define TS_STORE_QUERIES_SCIM_H

#define TS__STORE_QUERIES_SCIM(X)

#endif
