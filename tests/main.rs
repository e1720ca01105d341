//! Black-box tests: the framework and the example shop driven through the public API, the test
//! client, real servers on loopback and the CLI.

mod common;

mod admin;
mod auth;
mod browser;
mod cache;
mod cache_pages;
mod cart;
mod checkout;
mod cli;
mod collector;
mod csrf;
mod db;
mod deployment;
mod diesel_folders;
mod fields;
mod fixtures;
mod forms;
mod legacy;
mod mail;
mod middleware;
mod migrations;
mod models;
mod pagination;
mod production;
mod ratelimit;
mod registry;
mod relations;
mod responses;
mod scaffold;
mod server;
mod sessions;
mod settings;
mod shop;
mod signals;
mod tasks;
mod techempower;
mod uploads;
mod urls;
