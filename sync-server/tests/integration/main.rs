/// Runs each named test once per backend: `sqlite::name` and `postgresql::name`. The module
/// invoking it brings `on_sqlite` and `on_postgres` into scope.
macro_rules! conformance {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test] fn $test() { super::on_sqlite(super::$test) })+
        }
        mod postgresql {
            $(#[test] fn $test() { super::on_postgres(super::$test) })+
        }
    };
}

mod cli;
mod iot;
mod keys;
mod reference;
mod seed;
mod store;
