#!/usr/bin/env node
// Prints the bcrypt hash of a password for HUB_USERS: `npm run hash-password -- 'the password'`
// (or with no argument, reads it from standard input so it stays out of shell history).
'use strict';
const bcrypt = require('bcryptjs');

async function main() {
  let password = process.argv[2];
  if (!password) {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!password || password.length < 12) {
    console.error('hash-password: give a password of at least 12 characters');
    process.exit(1);
  }
  console.log(bcrypt.hashSync(password, 12));
}
main();
