/**
 * MongoDB URLs reach the driver as the driver reads them: seed lists, mongodb+srv:// and every
 * option intact; passwords masked in info(). No server needed: the
 * driver parses the URL when the client is made.
 */
import { describe, expect, it } from 'vitest';
import { Connection, parseUrl, UrlError } from '@nori/core';
import { createMongoClient } from '@nori/mongodb';
import { readMongoUrl } from '../src/mongo-url.js';

const options = { transportOptions: {}, connectTimeout: 4321 };

describe('mongodb URLs', () => {
  it('a replica-set seed list reaches the driver unchanged', () => {
    const href =
      'mongodb://app:p%40ss@h1.example:27017,h2.example:27018,h3.example/jobs?replicaSet=rs0&authSource=admin&readPreference=secondaryPreferred&w=majority&appName=billing';
    const url = parseUrl(href);
    expect(url.hosts).toEqual([
      { hostname: 'h1.example', port: 27017 },
      { hostname: 'h2.example', port: 27018 },
      { hostname: 'h3.example', port: undefined },
    ]);
    expect(readMongoUrl(url).database).toBe('jobs');
    const o = createMongoClient(url, options).options;
    expect(o.hosts.map(String)).toEqual(['h1.example:27017', 'h2.example:27018', 'h3.example:27017']);
    expect(o.replicaSet).toBe('rs0');
    expect(o.credentials?.username).toBe('app');
    expect(o.credentials?.password).toBe('p@ss');
    expect(o.credentials?.source).toBe('admin');
    expect(o.readPreference.mode).toBe('secondaryPreferred');
    expect(o.writeConcern?.w).toBe('majority');
    expect(o.appName).toBe('billing');
    expect(o.dbName).toBe('jobs');
    // nori's connect timeout fills only what the URL leaves unset
    expect(o.serverSelectionTimeoutMS).toBe(4321);
    expect(o.connectTimeoutMS).toBe(4321);
  });

  it('timeouts written in the URL (in any letter case) win over nori’s connect timeout', () => {
    const o = createMongoClient(parseUrl('mongodb://h1,h2/app?serverselectiontimeoutms=111&connectTimeoutMS=222'), options).options;
    expect(o.serverSelectionTimeoutMS).toBe(111);
    expect(o.connectTimeoutMS).toBe(222);
  });

  it('mongodb+srv:// keeps its host for the SRV lookup and masks its password in info()', () => {
    const href = 'mongodb+srv://app:s3cr%2Ft@cluster0.example.net/jobs?retryWrites=true&w=majority';
    const conn = new Connection(href);
    expect(conn.info().url).toBe('mongodb+srv://app:**@cluster0.example.net/jobs?retryWrites=true&w=majority');
    expect(JSON.stringify(conn.info())).not.toContain('s3cr');
    const o = createMongoClient(parseUrl(href), options).options;
    expect(o.srvHost).toBe('cluster0.example.net');
    expect(o.credentials?.password).toBe('s3cr/t');
    expect(o.retryWrites).toBe(true);
  });

  it('secrets kept in options are masked in info() too', () => {
    const conn = new Connection(
      'mongodb://h1,h2/app?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok3n&tlsCertificateKeyFilePassword=k3y&w=1',
    );
    expect(conn.info().url).toBe('mongodb://h1,h2/app?authMechanism=MONGODB-AWS&authMechanismProperties=**&tlsCertificateKeyFilePassword=**&w=1');
  });

  it('core refuses host lists only for schemes that cannot take them, saying so', () => {
    expect(() => parseUrl('redis://h1:6379,h2:6379/0')).toThrow(/redis:\/\/ takes one host.*mongodb:\/\/ seed lists.*';'/);
    expect(() => parseUrl('mongodb+srv://u:pw@a.example.net,b.example.net/app')).toThrow(UrlError);
    expect(() => parseUrl('amqp://u:pw@a,b//')).toThrow(/amqp:\/\/ takes one host/);
    expect(parseUrl('mongodb://a,b:27018/x').hosts).toHaveLength(2);
  });
});
