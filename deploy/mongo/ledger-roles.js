// Roles and users for the ledger database (mongosh). Safe to run again: it creates what
// is missing and resets existing roles and users to exactly what is written here.
//
//   LEDGER_DB=plpbk_ledger LEDGER_WRITERS=registration,payments LEDGER_READERS=auditor \
//   LEDGER_PASSWORD_REGISTRATION=... mongosh "$ADMIN_URI" deploy/mongo/ledger-roles.js
//
// Settings come from the environment:
//   LEDGER_DB        the database holding the ledgers (<service>_ledger collections).
//                    Nothing else may live there: the roles cover the whole database.
//   LEDGER_WRITERS   comma-separated service users that append to ledgers.
//   LEDGER_READERS   comma-separated users that only read (auditors, verifiers).
//   LEDGER_RELAYS    comma-separated users of `plpbk relay`: they read the ledgers (as
//                    readers) and keep their positions in VIEWS_DB (readWrite there).
//   VIEWS_DB         optional: also grant writers readWrite on this database, where
//                    read models and operator state live (they are mutable by design).
//   LEDGER_PASSWORD_<USER>  password of a user (name upper-cased, non-alphanumerics
//                    as _). Unset: asked for when the user is created, kept otherwise.
// Users are created in LEDGER_DB, the default authSource of a URI ending in /<LEDGER_DB>;
// a service's VIEWS_DB URI needs ?authSource=<LEDGER_DB>.

(function () { // a scope of its own: load() can run it again in one shell session
function setting(name, fallback) {
  const value = process.env[name];
  return value === undefined || value === "" ? fallback : value;
}

function names(list) {
  return list.split(",").map((name) => name.trim()).filter((name) => name.length > 0);
}

const ledgerDbName = setting("LEDGER_DB", "plpbk_ledger");
const viewsDbName = setting("VIEWS_DB", "");
const ledgerDb = db.getSiblingDB(ledgerDbName);
const everyLedger = { db: ledgerDbName, collection: "" }; // every collection of LEDGER_DB
// The platform's attachment store (GridFS, shared/attachments, decision 20), which every
// service that keeps files writes to, is content-addressed and never replaced: the same
// insert/find-only rule applies to its database when ATTACHMENTS_DB is set.
const attachmentsDbName = setting("ATTACHMENTS_DB", "");

// Deliberately absent from both roles: update, remove, dropCollection, dropDatabase,
// dropIndex, collMod, renameCollectionSameDB, createCollection and convertToCapped. A
// service can add records and read them, and nothing else: it cannot change, delete or
// reorder one, drop or rename a ledger, weaken an index, or make a ledger capped
// (createCollection could create one capped, which silently discards old records).
const ROLES = {
  plpbkLedgerWriter: [
    "find",            // reads: head, stream versions, records, idempotency keys
    "insert",          // appends: one insert per commit, never anything else
    "createIndex",     // opening a ledger ensures its unique indexes (a no-op once they
                       // exist); creating them on a new ledger also creates its collection
    "listCollections", // finding the ledgers in the database (ledger_names, audit)
    "listIndexes",     // checking that the unique indexes the ledger relies on are there
  ],
  plpbkLedgerReader: [
    "find",            // reading and verifying records
    "listCollections", // finding the ledgers
    "listIndexes",     // inspecting the indexes
  ],
};

for (const [role, actions] of Object.entries(ROLES)) {
  const privileges = [{ resource: everyLedger, actions: actions }].concat(
    attachmentsDbName ? [{ resource: { db: attachmentsDbName, collection: "" },
                           actions: actions }] : []);
  if (ledgerDb.getRole(role) === null) {
    ledgerDb.createRole({ role: role, privileges: privileges, roles: [] });
    print(`created role ${role} on ${ledgerDbName}: ${actions.join(", ")}`);
  } else {
    ledgerDb.updateRole(role, { privileges: privileges, roles: [] }); // undo any drift
    print(`reset role ${role} on ${ledgerDbName}: ${actions.join(", ")}`);
  }
}

function password(user) {
  return setting("LEDGER_PASSWORD_" + user.toUpperCase().replace(/[^A-Z0-9]/g, "_"), "");
}

function ensureUser(user, roles) {
  const pwd = password(user);
  if (ledgerDb.getUser(user) === null) {
    ledgerDb.createUser({ user: user, pwd: pwd || passwordPrompt(), roles: roles });
    print(`created user ${user}`);
  } else {
    // Roles are set, not added: a service that once had more loses it here.
    ledgerDb.updateUser(user, pwd ? { roles: roles, pwd: pwd } : { roles: roles });
    print(`reset roles of user ${user}`);
  }
}

const writerRoles = [{ role: "plpbkLedgerWriter", db: ledgerDbName }].concat(
  viewsDbName ? [{ role: "readWrite", db: viewsDbName }] : []);
for (const user of names(setting("LEDGER_WRITERS", ""))) ensureUser(user, writerRoles);
const readerRoles = [{ role: "plpbkLedgerReader", db: ledgerDbName }];
for (const user of names(setting("LEDGER_READERS", ""))) ensureUser(user, readerRoles);
// A relay publishes ledgers, never appends: a writer's insert would be more than it needs.
const relayRoles = readerRoles.concat(
  viewsDbName ? [{ role: "readWrite", db: viewsDbName }] : []);
for (const user of names(setting("LEDGER_RELAYS", ""))) ensureUser(user, relayRoles);
})();
