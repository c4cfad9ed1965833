//! `maestro deptree`: the requires tree of services (reference section 7.2).
