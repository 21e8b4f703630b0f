/* Queries of domains, sessions and licence groups: X(ID, sql, postgres variant or NULL). */
#ifndef TS_STORE_QUERIES_DIRECTORY_H
#define TS_STORE_QUERIES_DIRECTORY_H

#define TS__STORE_QUERIES_DIRECTORY(X)

#endif
