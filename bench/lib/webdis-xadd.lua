-- wrk script: the gateway's XADD through webdis's URL form, one argument per path segment.
-- webdis reads a trailing ".xxx" as an output format, so the dots in the coords are sent as
-- %2e (webdis decodes them); "~" and "*" pass through as they are. bench/spawn also reads
-- this path back to check, before measuring, that webdis writes the gateway's exact entry.
wrk.path = "/XADD/EVSTREAM:53/MAXLEN/~/5000/*/type/chest/coords/[1%2e5,2,3%2e25]/chest_id/c-9/ts/1700000000000"
