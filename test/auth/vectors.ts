/** Password-hash test vectors shared by the unit and integration tests. */

/**
 * Odoo's stored hash of the password `admin` (pbkdf2_sha512, 600 000 rounds, Odoo 17+), made with
 * the algorithm passlib implements, by Python's hashlib:
 *
 *   python3 -c "
 *   import hashlib, base64
 *   ab64 = lambda b: base64.b64encode(b).decode().rstrip('=').replace('+', '.')
 *   salt = bytes.fromhex('0c3a9f1e5b7d2468ace013579bdf8642')
 *   print('\$pbkdf2-sha512\$600000\$' + ab64(salt) + '\$' + ab64(hashlib.pbkdf2_hmac('sha512', b'admin', salt, 600000)))"
 *
 * Its salt and checksum both use ab64's `.` (for `+`), and the checksum a `/`.
 */
export const ODOO_ADMIN_HASH =
  '$pbkdf2-sha512$600000$DDqfHlt9JGis4BNXm9.GQg$M6JJ6yvnOy7luWoea1QLfGO51zXDlnDRuBMSy6L1PrGAfeRbOTSccTc.H6WNT7rylQ/qaHpd2mQWZVtl.mq5Hg';
